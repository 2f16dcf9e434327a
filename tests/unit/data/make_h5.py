"""Writes the small HDF5 files that tests/unit/load_test.cpp reads (committed; rerun only to change them).

    KERAS_BACKEND=jax python tests/unit/data/make_h5.py keras3   # Keras 3 (3.12 used) + h5py
    python tests/unit/data/make_h5.py tf2                          # tensorflow 2.15 tf.keras + h5py
    python tests/unit/data/make_h5.py crafted                      # h5py only

keras3 / tf2: real files saved by model.save() whose weights have non-float32 dtypes, with weights set
to known values so that the test can assert them. crafted: files written with h5py that exercise the
attribute encodings and damaged layouts the loader must handle (see each function's docstring).
"""
import json
import os
import sys

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "h5")
KERNEL = (np.arange(12, dtype=np.float64).reshape(4, 3) - 5.5) / 4  # -1.375 ... 1.375, exact in bf16/f16
BIAS = np.array([0.5, -0.25, 1e-3])


def path(name):
    return os.path.join(OUT, name)


def dense_model(keras, dtype):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, dtype=dtype, name="dense")])
    model.set_weights([KERNEL, BIAS])
    return model


def keras3():
    import keras
    dense_model(keras, "bfloat16").save(path("k3_dense_bfloat16.h5"))
    dense_model(keras, "float16").save(path("k3_dense_float16.h5"))


def tf2():
    from tensorflow import keras
    dense_model(keras, "float16").save(path("k2_dense_float16.h5"))
    dense_model(keras, "float64").save(path("k2_dense_float64.h5"))


def fixed(text):
    """A fixed-length, NUL-padded string (how h5py < 3 and np.bytes_ store text)."""
    return np.bytes_(text.encode())


def set_spacepad(obj, name, values, width):
    """An array attribute of fixed-length SPACE-padded strings (h5py's high-level API cannot write it)."""
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(width)
    tid.set_strpad(h5py.h5t.STR_SPACEPAD)
    space = h5py.h5s.create_simple((len(values),))
    attr = h5py.h5a.create(obj.id, name.encode(), tid, space)
    attr.write(np.array([v.encode().ljust(width) for v in values], dtype="S%d" % width))


CONFIG = {
    "class_name": "Sequential",
    "config": {"name": "crafted", "layers": [{"class_name": "Dense", "config": {"name": "d\u00e9nse"}}]},
}


def encodings():
    """Every string encoding Keras/h5py produce, chunked attributes and all convertible dtypes.

    root: model_config fixed-length bytes whose JSON has NaN/Infinity/-Infinity outside strings and
    the same words inside strings; keras_version fixed-length; backend vlen UTF-8.
    model_weights/layer_names0 = ["input", "dénse"], layer_names1 = ["types", "empty", "no_names", "spaced"]
    (vlen UTF-8). Layer groups:
      input    weight_names = empty float64 array (Keras's encoding of no weights)
      dénse    weight_names0/1 = chunked fixed-length S arrays ["dénse/kernel:0"], ["dénse/bias:0"]
      types    weight_names vlen: f16, f64, i32, u8, i64, bf16 (opaque + dtype attr), bf16 (opaque, no attr),
               scalar f32, nested a/b/c:0
      empty    weight_names = [] as an empty vlen string array
      no_names no weight_names attribute at all (reads as no weights)
      spaced   weight_names space-padded fixed-length strings
    """
    text = ('{"class_name": "Sequential", "config": {"name": "crafted", "nan": NaN, "inf": Infinity, '
            '"ninf": -Infinity, "list": [NaN, 1.5, -Infinity], "s": "NaN Infinity \\"NaN\\"", '
            '"layers": [{"class_name": "Dense", "config": {"name": "d\\u00e9nse", "max": Infinity}}]}}')
    json.loads(text)  # Python accepts it
    with h5py.File(path("encodings.h5"), "w") as f:
        f.attrs["model_config"] = fixed(text)
        f.attrs["keras_version"] = fixed("2.1.6")
        f.attrs["backend"] = "tensorflow"
        w = f.create_group("model_weights")
        w.attrs["layer_names0"] = ["input", "d\u00e9nse"]
        w.attrs["layer_names1"] = ["types", "empty", "no_names", "spaced"]
        w.create_group("input").attrs["weight_names"] = np.zeros((0,), dtype=np.float64)

        g = w.create_group("d\u00e9nse")
        g.attrs["weight_names0"] = np.array(["d\u00e9nse/kernel:0".encode()], dtype="S20")
        g.attrs["weight_names1"] = np.array(["d\u00e9nse/bias:0".encode()], dtype="S20")
        g.create_dataset("d\u00e9nse/kernel:0", data=KERNEL.astype("<f4"))
        g.create_dataset("d\u00e9nse/bias:0", data=BIAS.astype("<f4"))

        t = w.create_group("types")
        t.create_dataset("f16", data=np.array([1.5, -0.0, 6e-8, np.inf, np.nan, 65504], dtype="<f2"))
        t.create_dataset("f64", data=np.array([0.1, 1e300, -1e300, 3.4028235e38, 3.4028235677973366e38, 5e-324], dtype="<f8"))
        # 3.4028235e38 rounds down to FLT_MAX; 3.4028235677973366e38 is the tie (FLT_MAX + ulp/2): infinity
        t.create_dataset("i32", data=np.array([[-7, 0], [16777217, 2]], dtype="<i4"))
        t.create_dataset("u8", data=np.array([0, 255], dtype="u1"))
        t.create_dataset("i64", data=np.array([-(2 ** 40)], dtype="<i8"))
        bf16_bits = np.array([0x3FC0, 0xBF80, 0x7F80, 0x0001], dtype="<u2")  # 1.5, -1, inf, tiny denormal
        t.create_dataset("bf16_attr", data=bf16_bits.view("V2"))
        t["bf16_attr"].attrs["dtype"] = "bfloat16"
        t.create_dataset("bf16_bare", data=bf16_bits.view("V2"))
        t.create_dataset("scalar", data=np.float32(2.5))
        t.create_dataset("a/b/c:0", data=np.ones((1, 1, 2), dtype="<f4"))
        t.attrs["weight_names"] = ["f16", "f64", "i32", "u8", "i64", "bf16_attr", "bf16_bare", "scalar", "a/b/c:0"]

        w.create_group("empty").attrs.create("weight_names", [], dtype=h5py.string_dtype())
        w.create_group("no_names")
        s = w.create_group("spaced")
        s.create_dataset("k", data=np.zeros((2,), dtype="<f4"))
        s.create_dataset("long name", data=np.ones((1,), dtype="<f4"))
        set_spacepad(s, "weight_names", ["k", "long name"], 12)


def minimal(name, config_text=None, weights=True, layers=(("dense", {"dense/kernel:0": np.eye(2, dtype="<f4")}),),
            extra=None):
    """A full-model-shaped file; config_text None means a valid one-Dense config."""
    with h5py.File(path(name), "w") as f:
        f.attrs["model_config"] = config_text if config_text is not None else json.dumps(CONFIG)
        f.attrs["keras_version"] = "3.12.0"
        f.attrs["backend"] = "jax"
        if weights:
            w = f.create_group("model_weights")
            w.attrs["layer_names"] = [n for n, _ in layers]
            for layer, arrays in layers:
                g = w.require_group(layer)
                g.attrs["weight_names"] = list(arrays) if arrays else np.zeros((0,))
                for wname, value in (arrays or {}).items():
                    if value is not None:
                        g.create_dataset(wname, data=value)
        if extra:
            extra(f)


def crafted():
    encodings()
    minimal("bad_json.h5", '{"class_name": "Sequential", "config": {"layers": [}')
    # 'NaN' precedes the error: the reported position must be the original text's ('}' is byte 17)
    minimal("bad_json_after_nan.h5", '{"a": NaN, "b": }')
    minimal("no_class_name.h5", '{"config": {"layers": []}}')
    minimal("no_config.h5", '{"class_name": "Sequential"}')
    minimal("config_not_object.h5", "[1, 2]")
    minimal("empty_config.h5", "")
    minimal("no_model_weights.h5", weights=False)
    minimal("missing_layer_group.h5", extra=lambda f: f["model_weights"].attrs.__setitem__(
        "layer_names", ["dense", "ghost"]))
    minimal("missing_dataset.h5", layers=(("dense", {"dense/kernel:0": None}),))
    minimal("bool_weight.h5", layers=(("dense", {"mask:0": np.array([True, False])}),))
    minimal("keras1_root_weights.h5", weights=False, extra=lambda f: (
        f.attrs.create("layer_names", ["dense"]),
        f.create_group("dense").attrs.create("weight_names", ["dense/kernel:0"]),
        f["dense"].create_dataset("dense/kernel:0", data=np.full((1, 2), 3.0, dtype="<f4"))))
    with h5py.File(path("not_keras.h5"), "w") as f:
        f.create_dataset("x", data=np.zeros(3))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    {"keras3": keras3, "tf2": tf2, "crafted": crafted}[sys.argv[1]]()
