"""Writes the .npy files that tests/unit/npy_test.cpp reads. Deterministic; run from any directory:
    python tests/unit/data/make_npy.py
The files are committed; rerun only to change them (the test asserts the values listed here)."""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def save(name, array, **kw):
    path = os.path.join(OUT, name)
    if kw:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, **kw)
    else:
        np.save(path, array)


os.makedirs(OUT, exist_ok=True)
save("f4_2x3.npy", np.array([[0.0, 1.5, -2.0], [3.25, np.inf, -0.0]], dtype="<f4"))
save("f4_scalar.npy", np.array(7.5, dtype="<f4"))
save("f4_0x4.npy", np.zeros((0, 4), dtype="<f4"))
save("f4_2x3x4.npy", (np.arange(24, dtype="<f4") * 0.5 - 3).reshape(2, 3, 4))
save("f4_v2.npy", np.array([1.0, 2.0, 3.0], dtype="<f4"), version=(2, 0))
save("i4_5.npy", np.arange(-2, 3, dtype="<i4"))
save("i8_3.npy", np.array([-5, 0, 123456789], dtype="<i8"))
save("f8_2.npy", np.array([0.1, 1e300], dtype="<f8"))
save("f4_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
save("f4_big_endian.npy", np.arange(3, dtype=">f4"))
save("c8_2.npy", np.array([1 + 2j, 3], dtype="<c8"))
