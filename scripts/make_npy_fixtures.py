#!/usr/bin/env python3
"""NumPy files for descent's reader tests: iris in every layout descent must read, and a few
it must refuse. Run from the repository root: .venv/bin/python scripts/make_npy_fixtures.py"""
import numpy as np

OUT = "crates/descent/tests/fixtures/npy"
table = np.loadtxt("data/iris.csv", delimiter=",", skiprows=1)
x, y = table[:, 1:], table[:, 0]

np.save(f"{OUT}/x_f64_c.npy", x.astype(np.float64))
np.save(f"{OUT}/x_f32_fortran.npy", np.asfortranarray(x.astype(np.float32)))
np.save(f"{OUT}/x_f64_bigendian.npy", x.astype(">f8"))
np.save(f"{OUT}/y_i64.npy", y.astype(np.int64))
np.save(f"{OUT}/y_f32_column.npy", y.astype(np.float32).reshape(-1, 1))
np.save(f"{OUT}/y_u8.npy", y.astype(np.uint8))
np.save(f"{OUT}/y_short.npy", y[:100].astype(np.int64))
np.save(f"{OUT}/x_complex.npy", x.astype(np.complex64))
np.save(f"{OUT}/x_int.npy", x.astype(np.int32))
np.save(f"{OUT}/x_3d.npy", x.reshape(150, 2, 2))
bad = x.copy()
bad[7, 2] = np.nan
np.save(f"{OUT}/x_nan.npy", bad)
with open(f"{OUT}/x_f64_c.npy", "rb") as f:
    whole = f.read()
with open(f"{OUT}/x_truncated.npy", "wb") as f:
    f.write(whole[: len(whole) - 100])
