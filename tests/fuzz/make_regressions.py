"""The fuzz targets' regression inputs: the crashers of issue 16 and those the fuzzers found since.

    .venv-k3/bin/python tests/fuzz/make_regressions.py

Writes, for every case below, tests/fuzz/regressions/config/<name>.json (the input of fuzz_config:
keras_version, model_config and the weight manifest) and tests/fuzz/regressions/file/<name>.h5 (a
legacy Keras HDF5 model file with that config, written with h5py; weights of the stated shapes,
filled with a fixed pattern); for every case in FILE_CASES only the .h5 file, whose HDF5 structure is
the hostile part (external storage, a virtual dataset, a dataset listed 1000 times). Each must give kc2cpp a clean error (or compile), never a crash.
Deterministic: rerunning writes the same bytes (h5py with track_order off, fixed values).
Inputs that are damaged HDF5 structure rather than a config are committed as the fuzzer saved them:
hdf5_endless_loop_h5hg_read.h5 makes libhdf5 1.10 loop forever in H5HG_read (the loader's timeout stops it);
data/npy_descr_f1.npy, a .npy of dtype '<f1', was read as float64 past its buffer (fuzz_data).
"""
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def ref(layer, node=0, tensor=0):
    return {"class_name": "__keras_tensor__", "config": {"shape": None, "dtype": "float32",
                                                         "keras_history": [layer, node, tensor]}}


def call(*layers):
    return [{"args": [ref(l) for l in layers] if len(layers) > 1 else [ref(layers[0])], "kwargs": {}}]


def input_layer(name, batch_shape):
    return {"class_name": "InputLayer", "name": name, "config": {"batch_shape": batch_shape, "dtype": "float32",
                                                                 "name": name}, "inbound_nodes": []}


def layer(cls, name, inbound=None, **config):
    entry = {"class_name": cls, "name": name, "config": dict(name=name, **config)}
    if inbound is not None:
        entry["inbound_nodes"] = call(*inbound)
    return entry


def sequential(*layers):
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": list(layers)}}


def functional(layers, inputs, outputs):
    return {"class_name": "Functional", "config": {"name": "functional", "layers": layers,
                                                   "input_layers": inputs, "output_layers": outputs}}


# Placeholders replaced in the JSON text (Python's json recurses, and cannot write 1e400).
RAW = {"@DEEP@": "[" * 30000 + '["in", 0, 0]' + "]" * 30000, "@1E400@": "1e400"}


def dumps(doc):
    text = json.dumps(doc, allow_nan=True)
    for key, raw in RAW.items():
        text = text.replace('"%s"' % key, raw)
    return text


CASES = {
    # issue 16: the product of target_shape wraps to 0 in int64 (SIGFPE).
    "reshape_overflow": (sequential(input_layer("in", [None, 4]),
                                    layer("Reshape", "reshape", target_shape=[-1, 4294967296, 4294967296])), []),
    # issue 16: an InputLayer called inside a Functional chain (a null lowering function was called).
    "input_layer_in_chain": (functional([input_layer("in", [None, 4]), layer("InputLayer", "stray", ["in"],
                                                                             batch_shape=[None, 4]),
                                         layer("ReLU", "relu", ["stray"])],
                                        [["in", 0, 0]], [["relu", 0, 0]]), []),
    # issue 16: Input(shape=()) then Dense (shape.back() of an empty shape).
    "scalar_input_dense": (sequential(input_layer("in", [None]), layer("Dense", "dense", units=2)),
                           [["dense", "dense/kernel", [1, 2]], ["dense", "dense/bias", [2]]]),
    # issue 16: input_layers nested 30,000 deep (stack overflow in the recursive walk and encoding).
    "input_layers_30000_deep": (functional([input_layer("in", [None, 4]), layer("ReLU", "relu", ["in"])],
                                           "@DEEP@", [["relu", 0, 0]]), []),
    # issue 16: Input(4) -> RepeatVector(2^31-1) -> GlobalAveragePooling1D compiled into an int overflow.
    "repeat_vector_2_31": (sequential(input_layer("in", [None, 4]), layer("RepeatVector", "rep", n=2147483647),
                                      layer("GlobalAveragePooling1D", "gap")), []),
    # issue 16: a layer name that is a number; a number beyond double in a config (type_error.302).
    "layer_name_number": (sequential(input_layer("in", [None, 4]), {"class_name": "ReLU", "config": {"name": 7}}), []),
    "units_1e400": (sequential(input_layer("in", [None, 4]), layer("Dense", "dense", units="@1E400@")),
                    [["dense", "dense/kernel", [4, 2]], ["dense", "dense/bias", [2]]]),
    # issue 16: a PReLU alpha broadcast to a config-sized input (> 3.8 GB).
    "prelu_broadcast_huge": (sequential(input_layer("in", [None, 32768, 32768]),
                                        layer("PReLU", "prelu", shared_axes=[1, 2])),
                             [["prelu", "prelu/alpha", [1, 1]]]),
    # issue 7: a dimension that is negative.
    "negative_dimension": (sequential(input_layer("in", [None, -10]), layer("ReLU", "relu")), []),
}

# Cases in the HDF5 structure rather than the config (file target only): a Dense model whose kernel is
# stored elsewhere. Each must be refused before any data is read.
DENSE = (sequential(input_layer("in", [None, 4]), layer("Dense", "dense", units=2)),
         [["dense", "dense/kernel", [4, 2]], ["dense", "dense/bias", [2]]])
FILE_CASES = {
    # issue 16: the kernel's data in external storage: /etc/passwd.
    "external_storage_etc_passwd": DENSE + ({"external": "dense/kernel"},),
    # issue 16: the kernel a virtual dataset mapping another file.
    "virtual_dataset": DENSE + ({"virtual": "dense/kernel"},),
    # issue 16: one weight dataset (16 KiB) listed 1000 times in weight_names.
    "weight_listed_1000_times": (sequential(input_layer("in", [None, 64]), layer("Dense", "dense", units=64)),
                                 [["dense", "dense/kernel", [64, 64]], ["dense", "dense/bias", [64]]],
                                 {"repeat": 1000}),
}


# Data files for fuzz_data (eval --input, dataset /x): seeds and the hostile cases of issue 14. Each
# function writes one file with h5py.
def data_external(f):
    f.create_dataset("x", (4, 3), np.float32, external=[("/etc/passwd", 0, 48)])


def virtual_dataset(group, name, shape):
    """Dataset `name` mapping /x of other.h5, without the modification time that
    create_virtual_dataset stores (the bytes must not change between runs)."""
    layout = h5py.VirtualLayout(shape=tuple(shape), dtype=np.float32)
    layout[...] = h5py.VirtualSource("other.h5", "/x", shape=tuple(shape))
    dcpl = layout._get_dcpl(group.file.filename)
    dcpl.set_obj_track_times(False)
    lcpl = h5py.h5p.create(h5py.h5p.LINK_CREATE)
    lcpl.set_create_intermediate_group(True)  # "dense/kernel"
    h5py.h5d.create(group.id, name.encode(), h5py.h5t.py_create(np.dtype(np.float32), logical=1),
                    h5py.h5s.create_simple(tuple(shape)), dcpl=dcpl, lcpl=lcpl)


def data_virtual(f):
    virtual_dataset(f, "x", (4, 3))


DATA_CASES = {
    "float32": lambda f: f.create_dataset("x", data=np.arange(12, dtype=np.float32).reshape(4, 3)),
    "uint8_gzip_chunks": lambda f: f.create_dataset("x", data=(np.arange(48) % 256).astype(np.uint8).reshape(8, 6),
                                                   chunks=(2, 6), compression="gzip", shuffle=True),
    "float16": lambda f: f.create_dataset("x", data=np.linspace(-2, 2, 10, dtype=np.float16).reshape(5, 2)),
    "external_storage_etc_passwd": data_external,
    "virtual_dataset": data_virtual,
    "claims_2_30_rows": lambda f: f.create_dataset("x", (1 << 30, 3), np.float32, chunks=(1, 3)),
    "scalar": lambda f: f.create_dataset("x", data=np.float32(1.5)),
    "strings": lambda f: f.create_dataset("x", data=np.array([b"a", b"b"])),
}


def write_data(name, make):
    with h5py.File(os.path.join(HERE, "regressions", "data", name + ".h5"), "w", libver="earliest",
                   track_order=False) as f:
        make(f)


def write_config(name, config, weights):
    doc = {"keras_version": "3.12.0", "model_config": config, "weights": weights}
    with open(os.path.join(HERE, "regressions", "config", name + ".json"), "w") as f:
        f.write(dumps(doc))


def write_h5(name, config, weights, special=None):
    special = special or {}
    path = os.path.join(HERE, "regressions", "file", name + ".h5")
    with h5py.File(path, "w", libver="earliest", track_order=False) as f:
        f.attrs["keras_version"] = "3.12.0"
        f.attrs["backend"] = "jax"
        f.attrs["model_config"] = dumps(config)
        mw = f.create_group("model_weights")
        layer_names = []
        for entry in config["config"]["layers"]:
            n = entry.get("name", entry.get("config", {}).get("name"))
            if isinstance(n, str):
                layer_names.append(n)
        mw.attrs["layer_names"] = [n.encode() for n in layer_names]
        for n in layer_names:
            g = mw.create_group(n)
            mine = [w for w in weights if w[0] == n]
            names = [w[1].encode() for w in mine]
            g.attrs["weight_names"] = names[:1] * special.get("repeat", 1) + names[1:]
            for _, wname, shape in mine:
                count = int(np.prod(shape))
                data = ((np.arange(count) * 37 % 2001) - 1000).astype(np.float32) / 1000.0
                if special.get("external") == wname:
                    g.create_dataset(wname, shape, np.float32, external=[("/etc/passwd", 0, count * 4)])
                elif special.get("virtual") == wname:
                    virtual_dataset(g, wname, shape)
                else:
                    g.create_dataset(wname, data=data.reshape(shape))


def main():
    for sub in ("config", "file", "data"):
        os.makedirs(os.path.join(HERE, "regressions", sub), exist_ok=True)
    for name, (config, weights) in CASES.items():
        write_config(name, config, weights)
        small = all(np.prod(w[2]) <= 1 << 20 for w in weights)
        if small:
            write_h5(name, config, weights)
    for name, (config, weights, special) in FILE_CASES.items():
        write_h5(name, config, weights, special)
    for name, make in DATA_CASES.items():
        write_data(name, make)
    print("make_regressions: %d cases" % (len(CASES) + len(FILE_CASES) + len(DATA_CASES)), file=sys.stderr)


if __name__ == "__main__":
    main()
