#!/usr/bin/env python3
"""Seeded generator of the benchmark models (bench/models/*.h5), saved by real Keras 3.

    KERAS_BACKEND=jax /tmp/venv-k3/bin/python bench/gen_models.py

Models (all float32, use_bias=True, non-zero random weights AND biases):
  dense_8_8        Input(8)  -> Dense(8,  linear)
  dense_64_64      Input(64) -> Dense(64, linear)
  dense_64_64_64   Input(64) -> Dense(64, relu) -> Dense(64, linear)
The summary-walkthrough model is not generated here: it is the test fixture
tests/fixtures/k3/summary_walkthrough.h5.

Rerunning produces the same weights (the HDF5 files may differ in timestamps only).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")

MODELS = {
    "dense_8_8": (8, [(8, "linear")]),
    "dense_64_64": (64, [(64, "linear")]),
    "dense_64_64_64": (64, [(64, "relu"), (64, "linear")]),
}


def build(name, n_in, spec, seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = keras.Input(shape=(n_in,), name="x")
    h = inp
    for i, (units, act) in enumerate(spec):
        h = keras.layers.Dense(units, activation=act, name=f"dense_{i}")(h)
    m = keras.Model(inp, h, name=name)
    for layer in m.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        k, b = ws
        lim = np.sqrt(6.0 / (k.shape[0] + k.shape[1]))
        k = rng.uniform(-lim, lim, size=k.shape).astype(np.float32)
        b = rng.uniform(-0.5, 0.5, size=b.shape).astype(np.float32)
        layer.set_weights([k, b])
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    for idx, (name, (n_in, spec)) in enumerate(MODELS.items()):
        m = build(name, n_in, spec, seed=20240 + idx)
        path = os.path.join(OUT, name + ".h5")
        if os.path.exists(path):
            os.remove(path)
        m.save(path)
        x = np.random.default_rng(7).standard_normal((4, n_in)).astype(np.float32)
        y = m.predict(x, verbose=0)
        print(f"{path}: params={m.count_params()} y[0,:4]={y[0, :4]}", file=sys.stderr)


if __name__ == "__main__":
    main()
