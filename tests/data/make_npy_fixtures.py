#!/usr/bin/python3
"""Regenerates the small NumPy-written fixtures in tests/data/fixtures/.

Run with Debian's Python (the one with NumPy):  /usr/bin/python3 tests/data/make_npy_fixtures.py
The values follow simple formulas of the flat C-order index k that
npy_test.cc recomputes on its own; keep the two in step.
"""
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def pattern(shape, scale, offset):
    k = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (k * scale + offset).reshape(shape)


def save(name, array, version=None):
    with open(os.path.join(HERE, name), "wb") as f:
        np.lib.format.write_array(f, np.asanyarray(array), version=version, allow_pickle=False)


def main():
    os.makedirs(HERE, exist_ok=True)
    save("f8_c_2x3.npy", pattern((2, 3), 0.5, -1.0).astype("<f8"))
    save("f8_be_fortran_3x4.npy", np.asfortranarray(pattern((3, 4), 1.25, -3.0).astype(">f8")))
    save("f4_fortran_2x3x4.npy", np.asfortranarray(pattern((2, 3, 4), 0.5, -6.0).astype("<f4")))
    save("f4_be_5.npy", pattern((5,), 0.25, -0.5).astype(">f4"))
    save("f2_6.npy", pattern((6,), 0.5, -1.5).astype("<f2"))
    save("i1_2x3.npy", pattern((2, 3), 40, -128).astype("i1"))
    save("i2_be_2x3x4.npy", pattern((2, 3, 4), 1000, -12000).astype(">i2"))
    save("i4_fortran_3x2.npy", np.asfortranarray(pattern((3, 2), 700000000, -2100000000).astype("<i4")))
    save("i8_be_4.npy", np.array([-(2**53), -1, 0, 2**53], dtype=">i8"))
    save("u1_4.npy", np.array([0, 1, 128, 255], dtype="u1"))
    save("u2_be_3.npy", np.array([0, 258, 65535], dtype=">u2"))
    save("u4_4.npy", np.array([0, 1, 2**32 - 1, 123456789], dtype="<u4"))
    save("u8_3.npy", np.array([0, 2**53, 2**63 + 4096], dtype="<u8"))
    save("b1_2x3.npy", np.array([[True, False, True], [True, False, False]]))
    save("f8_v2_3.npy", np.array([1.0, 2.0, 3.0]), version=(2, 0))
    save("f8_v3_2x2.npy", pattern((2, 2), -1.5, 2.0), version=(3, 0))
    save("f8_scalar.npy", np.float64(3.5))
    save("f8_empty_0x3.npy", np.zeros((0, 3)))


if __name__ == "__main__":
    main()
