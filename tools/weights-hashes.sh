#!/usr/bin/env bash
# Fixed-seed training on every backend, thread count and instruction set, printing the first 16 hex digits of the
# exported weights' SHA-256 per path. Every line of one optimizer must show the same hash (numerics contract, point 5);
# a structure change must show the same hashes as the commit before it.
# Usage: tools/weights-hashes.sh [ENGINE_DLL]   (default: the Release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-src/Engine.Cli/bin/Release/net10.0/engine.dll}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() { # label, train arguments...
  local label=$1; shift
  for opt in sgd momentum adam; do
    dotnet "$engine" train --epochs 2 --hidden 64 --optimizer "$opt" --export-npz "$tmp/w.npz" "$@" >/dev/null
    printf '%s %s %s\n' "$opt" "$label" "$(sha256sum "$tmp/w.npz" | cut -c1-16)"
  done
}
run "reference 1" --backend reference --threads 1
for isa in avx512 avx2 vector scalar; do
  for t in 1 2; do run "simd $t $isa" --backend simd --threads "$t" --isa "$isa"; done
done
