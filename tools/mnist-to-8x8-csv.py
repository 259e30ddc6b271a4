#!/usr/bin/env python3
"""Makes a 64-column, 0..16-valued digits CSV (the UCI "optdigits" preprocessing) from MNIST IDX files:
each 28x28 image is padded to 32x32, thresholded at 128, and every 4x4 block becomes the count of its
set pixels (0..16). Output in the Kaggle layout (label,pixel0..pixel63) to test how the engine handles
data of another width and value range.

Usage: /usr/bin/python3 tools/mnist-to-8x8-csv.py data/mnist-10k OUTDIR   -> OUTDIR/train.csv, OUTDIR/test.csv
"""
import gzip, os, struct, sys
import numpy as np

def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack('>' + 'I' * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data[4 + 4 * rank:], dtype=np.uint8).reshape(dims)

def convert(images):
    padded = np.zeros((len(images), 32, 32), np.int64)
    padded[:, 2:30, 2:30] = images >= 128
    return padded.reshape(-1, 8, 4, 8, 4).sum(axis=(2, 4)).reshape(-1, 64)

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for split, prefix in (('train', 'train'), ('test', 't10k')):
    x = convert(read_idx(os.path.join(src, f'{prefix}-images-idx3-ubyte.gz')))
    y = read_idx(os.path.join(src, f'{prefix}-labels-idx1-ubyte.gz'))
    with open(os.path.join(out, f'{split}.csv'), 'w') as f:
        f.write('label,' + ','.join(f'pixel{i}' for i in range(64)) + '\n')
        for label, row in zip(y, x):
            f.write(f'{label},' + ','.join(map(str, row)) + '\n')
    print(f'{split}: {len(y)} rows, values {x.min()}..{x.max()}')
