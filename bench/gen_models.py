#!/usr/bin/env python3
"""Seeded generator of the benchmark models (bench/models/*.h5), saved by real Keras 3.

    KERAS_BACKEND=jax /tmp/venv-k3/bin/python bench/gen_models.py [name ...]   # default: all

Models (all float32, use_bias=True, non-zero random weights AND biases):
  dense_8_8        Input(8)  -> Dense(8,  linear)
  dense_64_64      Input(64) -> Dense(64, linear)
  dense_64_64_64   Input(64) -> Dense(64, relu) -> Dense(64, linear)
  pool2d_32x32x32  Input(32, 32, 32) -> MaxPooling2D(2) -> AveragePooling2D(2) -> GlobalAveragePooling2D
  ln_16x128        Input(16, 128) -> LayerNormalization (random non-zero gamma and beta)
  gru32_f1, lstm32_f1
                   Input(64, 1) -> GRU(32) / LSTM(32) (return_sequences) -> Dense(1): the audio-plugin shape,
                   stepped one sample at a time (the streaming API)
  transformer_s32_d64
                   Input(32 tokens) -> Embedding(64, 64) -> 2 x encoder block [MultiHeadAttention(4 heads,
                   key_dim 16) -> Add -> LayerNormalization -> Dense(128, relu) -> Dense(64) -> Add ->
                   LayerNormalization] -> GlobalAveragePooling1D -> Dense(4, softmax)
The other benchmark models (summary walkthrough, the conv / recurrent / normalization / embedding
families) are test fixtures in tests/fixtures/k3/ (bench/CMakeLists.txt).

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


def build_pool(name, seed):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(32, 32, 32), name="x")
    h = keras.layers.MaxPooling2D(2, name="max_pool")(inp)
    h = keras.layers.AveragePooling2D(2, name="avg_pool")(h)
    h = keras.layers.GlobalAveragePooling2D(name="global_avg")(h)
    return keras.Model(inp, h, name=name)


def build_ln(name, seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = keras.Input(shape=(16, 128), name="x")
    ln = keras.layers.LayerNormalization(axis=-1, name="ln")
    m = keras.Model(inp, ln(inp), name=name)
    g = rng.uniform(0.5, 1.5, size=(128,)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, size=(128,)).astype(np.float32)
    ln.set_weights([g, b])
    return m


def build_transformer(name, seed):
    keras.utils.set_random_seed(seed)
    L = keras.layers
    inp = keras.Input(shape=(32,), dtype="int32", name="tokens")
    h = L.Embedding(64, 64, name="embed")(inp)
    for b in range(2):
        a = L.MultiHeadAttention(num_heads=4, key_dim=16, name=f"mha_{b}")(h, h)
        h = L.LayerNormalization(epsilon=1e-5, name=f"ln_a{b}")(L.Add(name=f"add_a{b}")([h, a]))
        f = L.Dense(128, activation="relu", name=f"ff1_{b}")(h)
        f = L.Dense(64, name=f"ff2_{b}")(f)
        h = L.LayerNormalization(epsilon=1e-5, name=f"ln_f{b}")(L.Add(name=f"add_f{b}")([h, f]))
    h = L.GlobalAveragePooling1D(name="pool")(h)
    out = L.Dense(4, activation="softmax", name="head")(h)
    m = keras.Model(inp, out, name=name)
    rng = np.random.default_rng(seed)
    for layer in m.layers:  # biases and norms away from their zero/one initial values
        ws = layer.get_weights()
        if ws:
            layer.set_weights([w + rng.uniform(-0.1, 0.1, size=w.shape).astype(np.float32) for w in ws])
    return m


def build_rnn(cls):
    def fn(name, seed):
        keras.utils.set_random_seed(seed)
        rng = np.random.default_rng(seed)
        inp = keras.Input(shape=(64, 1), name="x")
        h = cls(32, return_sequences=True, name="rnn")(inp)
        m = keras.Model(inp, keras.layers.Dense(1, name="head")(h), name=name)
        for layer in m.layers:
            ws = layer.get_weights()
            if ws:
                layer.set_weights([w + rng.uniform(-0.1, 0.1, size=w.shape).astype(np.float32) for w in ws])
        return m
    return fn


OTHER = {"pool2d_32x32x32": ((32, 32, 32), build_pool), "ln_16x128": ((16, 128), build_ln),
         "gru32_f1": ((64, 1), build_rnn(keras.layers.GRU)), "lstm32_f1": ((64, 1), build_rnn(keras.layers.LSTM)),
         "transformer_s32_d64": ((32,), build_transformer)}


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    for idx, (name, (shape, fn)) in enumerate(OTHER.items()):
        if only and name not in only:
            continue
        m = fn(name, seed=20300 + idx)
        path = os.path.join(OUT, name + ".h5")
        if os.path.exists(path):
            os.remove(path)
        m.save(path)
        x = np.random.default_rng(7).standard_normal((4,) + shape).astype(np.float32)
        if m.inputs[0].dtype == "int32":
            x = np.random.default_rng(7).integers(0, 64, size=(4,) + shape).astype(np.int32)
        y = m.predict(x, verbose=0)
        print(f"{path}: params={m.count_params()} y[0].flat[:4]={y[0].ravel()[:4]}", file=sys.stderr)
    for idx, (name, (n_in, spec)) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
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
