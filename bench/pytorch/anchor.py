#!/usr/bin/env python3
"""PyTorch on the same machine, same workloads as the engine's EpochBenchmarks (the issue's anchors).

Fashion-MNIST (60,000 images), 784-128-10 tanh, softmax cross-entropy, SGD lr 0.1 with weight decay 1e-4 on the
weights only, shuffled batches; inference on the first 10,000 images in batches of 1,000. Prints one JSON line per
measurement: median and all timings of `--rounds` epochs (after one warm-up epoch) or inference passes.

  python3 bench/pytorch/anchor.py [--data /usr/share/datasets/fashion-mnist] [--threads 1 2] [--batch 32 128]

Debian's python3-torch 1.13 runs its matmuls on OpenBLAS; unset OPENBLAS_CORETYPE (or set SkylakeX) so that it uses
its AVX-512 kernel (Haswell halves it). OpenBLAS keeps its own thread pool, which torch.set_num_threads does not
limit: each thread count runs in its own process with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to it, so
"1 thread" really is one core. `--blas-threads default` leaves OpenBLAS's pool alone (it then uses every core).
"""
import argparse, gzip, json, os, statistics, subprocess, sys, time

import numpy as np


def idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory):
    def find(stem):
        for name in (stem, stem + ".gz"):
            if os.path.exists(os.path.join(directory, name)):
                return os.path.join(directory, name)
        raise SystemExit(f"{directory}: no {stem}")
    x = idx(find("train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y = idx(find("train-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.Tanh(), torch.nn.Linear(128, 10))


def epoch_seconds(net, opt, x, y, batch, generator):
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(x.shape[0], generator=generator)
    start = time.perf_counter()
    for i in range(0, x.shape[0], batch):
        idx_ = order[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx_]), y[idx_])
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blas-threads", default="same", help="same (as --threads) or default")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if not args.child and (len(args.threads) > 1 or args.blas_threads == "same"):
        # One process per thread count: OpenBLAS reads its thread count when it loads.
        for threads in args.threads:
            env = dict(os.environ)
            if args.blas_threads == "same":
                env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
            subprocess.run([sys.executable, __file__, "--child", "--data", args.data, "--threads", str(threads),
                            "--batch", *map(str, args.batch), "--rounds", str(args.rounds), "--blas-threads", args.blas_threads],
                           env=env, check=True)
        return
    global torch
    import torch
    x, y = load(args.data)
    common = {"torch": torch.__version__, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
              "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batch:
            net = model()
            weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
            biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
            opt = torch.optim.SGD([{"params": weights, "weight_decay": 1e-4}, {"params": biases, "weight_decay": 0}], lr=0.1)
            g = torch.Generator().manual_seed(0)
            epoch_seconds(net, opt, x, y, batch, g)  # warm-up
            times = [epoch_seconds(net, opt, x, y, batch, g) for _ in range(args.rounds)]
            med = statistics.median(times)
            print(json.dumps({"what": "epoch", "threads": threads, "batch": batch, "median_s": med,
                              "samples_per_s": x.shape[0] / med, "times_s": times, **common}), flush=True)
        net = model()
        xi = x[:10_000]
        with torch.no_grad():
            def infer():
                start = time.perf_counter()
                for i in range(0, xi.shape[0], 1000):
                    torch.softmax(net(xi[i:i + 1000]), dim=1)
                return time.perf_counter() - start
            infer()
            times = [infer() for _ in range(max(args.rounds, 20))]
        med = statistics.median(times)
        print(json.dumps({"what": "inference", "threads": threads, "batch": 1000, "median_s": med,
                          "images_per_s": xi.shape[0] / med, "times_s": times, **common}), flush=True)


if __name__ == "__main__":
    main()
