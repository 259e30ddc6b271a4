#!/usr/bin/env bash
# Builds the engine-nn wheel (py3-none-linux_x86_64, libengine.so inside) into OUTDIR, offline:
#   tools/package-python.sh OUTDIR      ->  OUTDIR/engine_nn-<version>-py3-none-linux_x86_64.whl
# Uses the published native library in out/native (publishes it when missing). $PYTHON picks the interpreter
# (default python3; it needs pip, setuptools and wheel, as Debian's python3-pip, python3-setuptools, python3-wheel).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: tools/package-python.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
[ -f out/native/libengine.so ] || dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native -nologo -v quiet
# $PYTHON, else the first python3 that has setuptools and wheel (Debian's /usr/bin/python3 with python3-wheel; a
# pyenv python3 earlier on PATH may lack them).
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "import setuptools, wheel, pip" 2>/dev/null; then python=$candidate; break; fi
  done
  [ -n "$python" ] || { echo "tools/package-python.sh: no python3 with pip, setuptools and wheel (Debian: python3-pip python3-setuptools python3-wheel)" >&2; exit 1; }
fi
# Build from a copy: the source tree never holds a libengine.so that could shadow $ENGINE_LIB or go stale.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md bindings/python/engine_nn "$stage/"
rm -rf "$stage/engine_nn/__pycache__"
[ -f LICENSE ] && cp LICENSE "$stage/"
# The dispatcher and the two builds it chooses from (x86-64-v3, and v4 for CPUs with AVX-512).
cp out/native/libengine.so out/native/libengine-x86-64-v*.so "$stage/engine_nn/"
"$python" -m pip wheel --no-deps --no-build-isolation --no-index -q "$stage" -w "$out"
wheel=$(ls "$out"/engine_nn-*-py3-none-linux_x86_64.whl | tail -n 1)
echo "$wheel"
