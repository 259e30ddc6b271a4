#!/usr/bin/env python3
"""Checks an implementation against the engine's golden vectors; here the implementation is plain NumPy float32.

    python3 conformance/check_numpy.py [conformance/v2]

NumPy does not follow the engine's numerics contract (its matmul sums in BLAS order, its tanh/exp are the C
library's), so every case is compared with the manifest's tolerance, not bitwise. To check an implementation
that does follow the contract, replace the functions in IMPL and set CONTRACT = True: then every case marked
exact_for_contract must match bit for bit. Exit status 0 when every case passes.
"""
import json
import os
import sys

import numpy as np

CONTRACT = False  # True: exact_for_contract cases are compared bitwise


def gemm(trans_a, trans_b, a, b, c_in):
    """a and b as stored: (K, M) when trans_a, (N, K) when trans_b. Returns op(a) @ op(b) (+ c_in)."""
    r = (a.T if trans_a else a) @ (b.T if trans_b else b)
    return r if c_in is None else r + c_in


MIN_NORMAL = np.float32(2.0 ** -126)


def exp(x):
    """NumPy's exp with the contract's flush (since v2): results below the smallest normal float are +0."""
    e = np.exp(x)
    return np.where(e < MIN_NORMAL, np.float32(0), e).astype(e.dtype)


def softmax(z):
    e = exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def row_loss(z, y):
    m = z.max(axis=1)
    s = np.exp(z - m[:, None]).sum(axis=1)
    return np.log(s) - (z[np.arange(len(y)), y] - m)


def sgd_step(x, y, W1, b1, W2, b2, lr, l2):
    B, f32 = len(y), np.float32
    z1 = x @ W1 + b1
    a1 = np.tanh(z1)
    logits = a1 @ W2 + b2
    p = softmax(logits)
    dlogits = (p - np.eye(W2.shape[1], dtype=f32)[y]) * f32(1 / B)
    dW2, db2 = a1.T @ dlogits, dlogits.sum(axis=0)
    da1 = dlogits @ W2.T
    dz1 = da1 * (f32(1) - a1 * a1)
    dW1, db1 = x.T @ dz1, dz1.sum(axis=0)
    return dict(z1=z1, a1=a1, logits=logits, probabilities=p, row_loss=row_loss(logits, y), dlogits=dlogits,
                dW2=dW2, db2=db2, da1=da1, dz1=dz1, dW1=dW1, db1=db1,
                W1_new=W1 - lr * (dW1 + l2 * W1), b1_new=b1 - lr * db1, W2_new=W2 - lr * (dW2 + l2 * W2), b2_new=b2 - lr * db2)


def sigmoid(x):
    # 1/(1 + e^-x) overflows for x < -88.7 and gives 0 where the answer is a subnormal: use e^-|x| instead.
    e = exp(-np.abs(x))
    return np.where(x >= 0, np.float32(1) / (np.float32(1) + e), e / (np.float32(1) + e))


IMPL = {  # activation: (forward(x), backward(a = forward(x), g))
    "tanh": (np.tanh, lambda a, g: g * (np.float32(1) - a * a)),
    "relu": (lambda x: np.maximum(x, np.float32(0)), lambda a, g: np.where(a > 0, g, np.float32(0))),
    "sigmoid": (sigmoid, lambda a, g: g * (a * (np.float32(1) - a))),
}


def ordinal(x):
    """Position of each float32 on the number line of floats (+0 and -0 are both 0)."""
    i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def agrees(got, expected, tol):
    """The manifest's comparison rule; returns the number of elements that fail it."""
    got = np.asarray(got, np.float32).reshape(expected.shape)
    nan = np.isnan(expected)
    if CONTRACT and tol["exact_for_contract"]:
        ok = (got.view(np.uint32) == expected.view(np.uint32)) | (nan & np.isnan(got))
    else:
        inf = np.isinf(expected) | np.isinf(got)
        if "ulps" in tol:
            close = np.abs(ordinal(got) - ordinal(expected)) <= tol["ulps"]
        else:
            e = expected.astype(np.float64)
            close = np.abs(got.astype(np.float64) - e) <= tol["tolerance_abs"] + tol["tolerance_rel"] * np.abs(e)
        ok = np.where(nan, np.isnan(got), np.where(inf, got == expected, close))
    return int((~ok).sum())


def scalar(case, name):
    return next(s for s in case["scalars"] if s["name"] == name)


def scalar_agrees(rows, scalar):
    """loss_sum: the row losses added in float64 in row order, within the scalar's own tolerance (1: fails)."""
    got, expected, t = sum(float(r) for r in rows), scalar["value"], scalar["tolerance"]
    return int(not abs(got - expected) <= t["tolerance_abs"] + t["tolerance_rel"] * abs(expected))


def main(root):
    manifest = json.load(open(os.path.join(root, "manifest.json")))
    failed = 0
    for case in manifest["cases"]:
        z = np.load(os.path.join(root, case["file"]))
        tol, kind, params = case["tolerance"], case["kind"], case["parameters"]
        tolerance_of = {a["name"]: a.get("tolerance", tol) for a in case["arrays"]}
        results = {}  # expected array -> number of elements outside
        if kind == "gemm":
            for v in case["variants"]:
                a = np.ascontiguousarray(z["A"].T) if v["trans_a"] else z["A"]
                b = np.ascontiguousarray(z["B"].T) if v["trans_b"] else z["B"]
                got = gemm(v["trans_a"], v["trans_b"], a, b, z[v["c_in"]] if v["accumulate"] else None)
                key = f'{v["expected"]} (trans_a={v["trans_a"]}, trans_b={v["trans_b"]})'
                results[key] = agrees(got, z[v["expected"]], tol)
        elif kind == "activation_forward":
            name = params["activation"]
            results[name] = agrees(IMPL[name][0](z["x"]), z[name], tol)
        elif kind == "activation_backward":
            name = params["activation"]
            results[name + "_backward"] = agrees(IMPL[name][1](z[name], z["g"]), z[name + "_backward"], tol)
        elif kind == "softmax":
            results["probabilities"] = agrees(softmax(z["logits"]), z["probabilities"], tol)
        elif kind == "cross_entropy":
            rows = row_loss(z["logits"], z["labels"].astype(int))
            results["row_loss"] = agrees(rows, z["row_loss"], tol)
            results["loss_sum"] = scalar_agrees(rows, scalar(case, "loss_sum"))
        elif kind == "softmax_cross_entropy_backward":
            y = z["labels"].astype(int)
            got = (z["probabilities"] - np.eye(z["probabilities"].shape[1], dtype=np.float32)[y]) * np.float32(params["scale"]["value"])
            results["dlogits"] = agrees(got, z["dlogits"], tol)
        elif kind == "sgd_step":
            lr, l2 = np.float32(params["learning_rate"]["value"]), np.float32(params["l2"]["value"])
            got = sgd_step(z["x"], z["labels"].astype(int), z["W1"], z["b1"], z["W2"], z["b2"], lr, l2)
            for name, value in got.items():
                results[name] = agrees(value, z[name], tolerance_of[name])
            results["loss_sum"] = scalar_agrees(got["row_loss"], scalar(case, "loss_sum"))
        else:
            print(f"{case['name']}: unknown kind {kind}, skipped")
            continue
        bad = {k: n for k, n in results.items() if n}
        failed += bool(bad)
        print(f"{case['name']:32} {'FAIL ' + str(bad) if bad else 'ok'}")
    print(f"{len(manifest['cases']) - failed} of {len(manifest['cases'])} cases pass "
          f"({'bitwise where exact_for_contract' if CONTRACT else 'within the stated tolerances'})")
    return 1 if failed else 0


if __name__ == "__main__":
    with np.errstate(all="ignore"):
        sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "v2")))
