#!/usr/bin/env python3
"""Checks the engine's SGD against an independent float64 NumPy implementation of the convention.

  W -= lr * (mean_batch dCE/dW + l2 * W);  b -= lr * mean_batch dCE/db
  batches in file order (--shuffle false), the last batch smaller and averaged over its own size.

Usage (needs NumPy, e.g. Debian's python3-numpy):
  /usr/bin/python3 tools/numpy_sgd_check.py [--engine "dotnet run --project src/Engine.Cli -c Release --"]
It writes random initial weights to a temp .npz, runs `engine train --init ... --shuffle false --epochs 2
--export-npz ...` on the bundled data, repeats the two epochs in float64 NumPy from the same weights, and
prints the largest relative difference per tensor. Exit code 1 when any exceeds 1e-4.
"""
import argparse, gzip, os, shlex, struct, subprocess, sys, tempfile
import numpy as np

def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    rank = magic & 0xFF
    dims = struct.unpack('>' + 'I' * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data[4 + 4 * rank:], dtype=np.uint8).reshape(dims)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--engine', default='dotnet run --project src/Engine.Cli -c Release --')
    ap.add_argument('--data', default='data/mnist-10k')
    ap.add_argument('--hidden', type=int, default=128)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--l2', type=float, default=1e-4)
    a = ap.parse_args()

    X = read_idx(os.path.join(a.data, 'train-images-idx3-ubyte.gz')).reshape(-1, 784).astype(np.float64)
    y = read_idx(os.path.join(a.data, 'train-labels-idx1-ubyte.gz')).astype(np.int64)
    X /= X.max()  # the engine's default scaling: divide by the training set's largest value

    rng = np.random.default_rng(12345)
    lim1, lim2 = np.sqrt(6 / (784 + a.hidden)), np.sqrt(6 / (a.hidden + 10))
    init = {'W1': rng.uniform(-lim1, lim1, (784, a.hidden)).astype(np.float32), 'b1': np.zeros(a.hidden, np.float32),
            'W2': rng.uniform(-lim2, lim2, (a.hidden, 10)).astype(np.float32), 'b2': np.zeros(10, np.float32)}
    tmp = tempfile.mkdtemp()
    init_path, out_path = os.path.join(tmp, 'init.npz'), os.path.join(tmp, 'trained.npz')
    np.savez(init_path, **init)

    cmd = shlex.split(a.engine) + ['train', '--data', a.data, '--init', init_path, '--shuffle', 'false',
        '--epochs', str(a.epochs), '--batch', str(a.batch), '--lr', str(a.lr), '--l2', str(a.l2), '--export-npz', out_path]
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    engine = np.load(out_path)

    W1, b1, W2, b2 = (init[k].astype(np.float64) for k in ('W1', 'b1', 'W2', 'b2'))
    for _ in range(a.epochs):
        for s in range(0, len(X), a.batch):
            xb, yb = X[s:s + a.batch], y[s:s + a.batch]
            n = len(xb)
            h = np.tanh(xb @ W1 + b1)
            z = h @ W2 + b2
            p = np.exp(z - z.max(axis=1, keepdims=True)); p /= p.sum(axis=1, keepdims=True)
            dz = p.copy(); dz[np.arange(n), yb] -= 1; dz /= n
            dW2, db2 = h.T @ dz, dz.sum(axis=0)
            dh = (dz @ W2.T) * (1 - h * h)
            dW1, db1 = xb.T @ dh, dh.sum(axis=0)
            W1 -= a.lr * (dW1 + a.l2 * W1); b1 -= a.lr * db1
            W2 -= a.lr * (dW2 + a.l2 * W2); b2 -= a.lr * db2

    worst = 0.0
    for name, ref in (('W1', W1), ('b1', b1), ('W2', W2), ('b2', b2)):
        rel = np.abs(engine[name].astype(np.float64) - ref).max() / np.abs(ref).max()
        worst = max(worst, rel)
        print(f'{name} {str(ref.shape):>12}: max |engine - numpy| / max |numpy| = {rel:.2e}')
    print('PASS' if worst <= 1e-4 else 'FAIL', f'(largest {worst:.2e}, tolerance 1e-4)')
    sys.exit(0 if worst <= 1e-4 else 1)

if __name__ == '__main__':
    main()
