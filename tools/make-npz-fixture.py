#!/usr/bin/python3
"""Writes tests/Engine.Tests/Fixtures/numpy-weights.npz with real NumPy, for Engine.Tests.Serialization.NpzTests.

Run with a Python that has NumPy (e.g. /usr/bin/python3 tools/make-npz-fixture.py from the repository root).
The values follow formulas the C# test recomputes:
  W1[i, j] = (i * 4 + j) * 0.25 - 1.5      float32, shape (3, 4), C order
  b1[j]    = 0.1 * j - 0.05                float64, shape (4,)
  W2[i, j] = (i * 2 + j + 1) / 8           float32, shape (4, 2), Fortran order
  b2[j]    = -0.5 + j                      float32, shape (2,)
"""
import os
import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "tests", "Engine.Tests", "Fixtures", "numpy-weights.npz")

W1 = (np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(0.25) - np.float32(1.5)).astype(np.float32)
b1 = np.arange(4, dtype=np.float64) * 0.1 - 0.05
W2 = np.asfortranarray((np.arange(8, dtype=np.float32).reshape(4, 2) + np.float32(1)) / np.float32(8))
b2 = (np.arange(2, dtype=np.float32) - np.float32(0.5)).astype(np.float32)

assert W1.dtype == np.float32 and W1.flags["C_CONTIGUOUS"]
assert b1.dtype == np.float64
assert W2.dtype == np.float32 and W2.flags["F_CONTIGUOUS"] and not W2.flags["C_CONTIGUOUS"]
assert b2.dtype == np.float32

os.makedirs(os.path.dirname(out), exist_ok=True)
np.savez_compressed(out, W1=W1, b1=b1, W2=W2, b2=b2)

check = np.load(out)
for name, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
    assert check[name].dtype == value.dtype and np.array_equal(check[name], value), name
print(f"wrote {out}")
