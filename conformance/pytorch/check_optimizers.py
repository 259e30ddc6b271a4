#!/usr/bin/env python3
"""The engine's optimizers and schedules against PyTorch's own, end to end.

For each configuration, the same 12-8-4 tanh network (same initial weights, written to an .npz and passed to
`engine train --init`) is trained on the same 100 examples, batches in file order (the last one of 4), with the
engine's command line and with torch.optim + torch.optim.lr_scheduler (weight decay on weights only, the
engine's convention; schedulers stepped once per epoch). The final weights must agree to float32 rounding
noise: max |engine - torch| <= 1e-6 * (1 + max |torch|) (measured: 0.6-1.5e-7). The check can tell the rules apart: each rule's
result is also compared with its neighbours' (momentum vs nesterov, adam vs adamw, ...) and those must differ
by far more than the tolerance.

    python3 conformance/pytorch/check_optimizers.py [path/to/engine.dll]

Needs NumPy and PyTorch (Debian: python3-numpy, python3-torch). Prints one line per configuration and ends
with "pytorch optimizer checks: N checks, M failed"; exits 1 on any failure.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "src/Engine.Cli/bin/Release/net10.0/engine.dll")
N, D, H, K, BATCH, EPOCHS = 100, 12, 8, 4, 32, 6

CONFIGS = [
    # name, engine options, torch optimizer factory (weights group, biases group), scheduler factory
    ("sgd", ["--optimizer", "sgd", "--lr", "0.1", "--l2", "0.01"],
     lambda w, b: torch.optim.SGD([{"params": w, "weight_decay": 0.01}, {"params": b, "weight_decay": 0}], lr=0.1), None),
    ("momentum", ["--optimizer", "momentum", "--lr", "0.05", "--l2", "0.01", "--momentum", "0.9"],
     lambda w, b: torch.optim.SGD([{"params": w, "weight_decay": 0.01}, {"params": b, "weight_decay": 0}], lr=0.05, momentum=0.9), None),
    ("nesterov", ["--optimizer", "nesterov", "--lr", "0.05", "--l2", "0.01", "--momentum", "0.9"],
     lambda w, b: torch.optim.SGD([{"params": w, "weight_decay": 0.01}, {"params": b, "weight_decay": 0}], lr=0.05, momentum=0.9, nesterov=True), None),
    ("adam", ["--optimizer", "adam", "--lr", "0.01", "--l2", "0.01"],
     lambda w, b: torch.optim.Adam([{"params": w, "weight_decay": 0.01}, {"params": b, "weight_decay": 0}], lr=0.01), None),
    ("adam β 0.8/0.99 ε 1e-6", ["--optimizer", "adam", "--lr", "0.01", "--l2", "0", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6"],
     lambda w, b: torch.optim.Adam([{"params": w}, {"params": b}], lr=0.01, betas=(0.8, 0.99), eps=1e-6), None),
    ("adamw", ["--optimizer", "adamw", "--lr", "0.01", "--l2", "0.1"],
     lambda w, b: torch.optim.AdamW([{"params": w, "weight_decay": 0.1}, {"params": b, "weight_decay": 0}], lr=0.01), None),
    ("sgd + step schedule", ["--optimizer", "sgd", "--lr", "0.2", "--l2", "0", "--schedule", "step", "--lr-step", "2", "--lr-gamma", "0.5"],
     lambda w, b: torch.optim.SGD([{"params": w}, {"params": b}], lr=0.2),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    ("adam + cosine schedule", ["--optimizer", "adam", "--lr", "0.02", "--l2", "0", "--schedule", "cosine", "--lr-min", "0.001"],
     lambda w, b: torch.optim.Adam([{"params": w}, {"params": b}], lr=0.02),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=EPOCHS, eta_min=0.001)),
]
NEIGHBOURS = [("sgd", "momentum"), ("momentum", "nesterov"), ("adam", "adamw"), ("adam", "adam β 0.8/0.99 ε 1e-6"),
              ("sgd", "sgd + step schedule"), ("adam", "adam + cosine schedule")]


def problem():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(N, D)).astype(np.float32)
    y = rng.integers(0, K, size=N)
    init = {"W1": (rng.normal(size=(D, H)) * 0.4).astype(np.float32), "b1": (rng.normal(size=H) * 0.1).astype(np.float32),
            "W2": (rng.normal(size=(H, K)) * 0.4).astype(np.float32), "b2": (rng.normal(size=K) * 0.1).astype(np.float32)}
    return x, y, init


def run_engine(directory, options):
    out = os.path.join(directory, "out.npz")
    cmd = ["dotnet", ENGINE, "train", "--data", os.path.join(directory, "train.csv"), "--test", os.path.join(directory, "train.csv"),
           "--init", os.path.join(directory, "init.npz"), "--activation", "tanh", "--epochs", str(EPOCHS),
           "--batch", str(BATCH), "--shuffle", "false", "--scale", "1", "--backend", "reference", "--quiet",
           "--export-npz", out, *options]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"engine failed ({result.returncode}): {result.stderr.strip() or result.stdout[-500:]}")
    with np.load(out) as z:
        return {name: z[name] for name in ("W1", "b1", "W2", "b2")}


def run_torch(x, y, init, make_optimizer, make_scheduler):
    torch.manual_seed(0)
    l1, l2 = torch.nn.Linear(D, H), torch.nn.Linear(H, K)
    with torch.no_grad():
        l1.weight.copy_(torch.from_numpy(init["W1"].T.copy())); l1.bias.copy_(torch.from_numpy(init["b1"]))
        l2.weight.copy_(torch.from_numpy(init["W2"].T.copy())); l2.bias.copy_(torch.from_numpy(init["b2"]))
    model = torch.nn.Sequential(l1, torch.nn.Tanh(), l2)
    optimizer = make_optimizer([l1.weight, l2.weight], [l1.bias, l2.bias])
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(EPOCHS):
        for start in range(0, N, BATCH):
            optimizer.zero_grad()
            loss_fn(model(xt[start:start + BATCH]), yt[start:start + BATCH]).backward()
            optimizer.step()
        if scheduler:
            scheduler.step()
    return {"W1": l1.weight.detach().numpy().T, "b1": l1.bias.detach().numpy(),
            "W2": l2.weight.detach().numpy().T, "b2": l2.bias.detach().numpy()}


def difference(a, b):
    return max(float(np.max(np.abs(a[n].astype(np.float64) - b[n]))) for n in a)


def main():
    torch.set_num_threads(1)
    x, y, init = problem()
    checks = failures = 0
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "train.csv"), "w") as f:
            f.write("label," + ",".join(f"f{j}" for j in range(D)) + "\n")
            for i in range(N):
                f.write(str(int(y[i])) + "," + ",".join(repr(float(v)) for v in x[i]) + "\n")
        np.savez(os.path.join(d, "init.npz"), **init)
        engine_results = {}
        for name, options, make_optimizer, make_scheduler in CONFIGS:
            got = run_engine(d, options)
            want = run_torch(x, y, init, make_optimizer, make_scheduler)
            engine_results[name] = got
            scale = max(float(np.max(np.abs(v))) for v in want.values())
            moved = difference(want, init)
            diff = difference(got, want)
            tolerance = 1e-6 * (1 + scale)
            ok = diff <= tolerance and moved > 100 * tolerance
            checks += 1
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name:24} max |engine - torch| = {diff:.2e} (tolerance {tolerance:.1e}); weights moved {moved:.3f}")
    for a, b in NEIGHBOURS:
        apart = difference(engine_results[a], engine_results[b])
        ok = apart > 1e-4  # 100 x the tolerance at weights of order 1
        checks += 1
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {a} and {b} differ by {apart:.2e} (the check can tell them apart)")
    print(f"pytorch optimizer checks: {checks} checks, {failures} failed (torch {torch.__version__})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
