#!/usr/bin/env python3
"""Runs the golden vectors (conformance/v2) through the C ABI: every GEMM case, all four transposes, with and
without accumulation, via engine_sgemm on 1 and 2 threads, compared BIT FOR BIT (the engine follows its own
numerics contract, so exact_for_contract cases must match exactly). Needs NumPy to read the .npz files.

    python3 bindings/python/check_conformance.py [conformance/v2]

The activation, softmax and training-step cases have no C ABI entry point of their own; the engine's xunit
tests check them on both backends, and conformance/check_numpy.py shows how another implementation checks them.
Exit status 0 when every case passes.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_nn  # noqa: E402


def sgemm(trans_a, trans_b, a, b, c_in, threads):
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    c = np.array(c_in, dtype=np.float32, copy=True) if c_in is not None else np.zeros((m, n), np.float32)
    engine_nn.sgemm(np.ascontiguousarray(a), np.ascontiguousarray(b), c, m, n, k, trans_a=trans_a, trans_b=trans_b,
                 accumulate=c_in is not None, threads=threads)
    return c


def main(root):
    manifest = json.load(open(os.path.join(root, "manifest.json")))
    cases = [c for c in manifest["cases"] if c["kind"] == "gemm"]
    failed = 0
    for case in cases:
        assert case["tolerance"]["exact_for_contract"], case["name"]
        z = np.load(os.path.join(root, case["file"]))
        bad = []
        for v in case["variants"]:
            a = np.ascontiguousarray(z["A"].T) if v["trans_a"] else z["A"]
            b = np.ascontiguousarray(z["B"].T) if v["trans_b"] else z["B"]
            expected = z[v["expected"]]
            for threads in (1, 2):
                got = sgemm(v["trans_a"], v["trans_b"], a, b, z[v["c_in"]] if v["accumulate"] else None, threads)
                differ = int((got.view(np.uint32) != expected.view(np.uint32)).sum())
                if differ:
                    bad.append(f'{v["expected"]} trans {int(v["trans_a"])}{int(v["trans_b"])} threads {threads}: {differ} elements differ')
        failed += bool(bad)
        print(f"{case['name']:32} {'FAIL ' + '; '.join(bad) if bad else 'ok (bitwise, ' + str(2 * len(case['variants'])) + ' runs)'}")
    print(f"engine {engine_nn.version()} via the C ABI: {len(cases) - failed} of {len(cases)} GEMM cases bit-identical")
    return 1 if failed else 0


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "conformance" / "v2"
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(default)))
