#!/usr/bin/env bash
# Installs what kc2cpp needs, builds it, compiles the quickstart model and runs it beside
# Keras's own outputs. Usage: bash scripts/run_example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=build/quickstart
mkdir -p "$out"
build/kc2cpp examples/quickstart/model.h5 -o "$out/model.cpp" --header "$out/model.h" --name model
g++ -std=c++17 -O2 -march=native -Wall -Wextra -I"$out" examples/quickstart/main.cpp "$out/model.cpp" -o "$out/quickstart"
"$out/quickstart" examples/quickstart/inputs.npy examples/quickstart/keras_outputs.npy
