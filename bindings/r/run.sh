#!/usr/bin/env bash
# Builds libengine.so (if missing) and the R adapters, then runs the R tests and the write-up's MNIST script.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f out/native/libengine.so ] || dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native -v quiet -nologo
gcc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -Isrc/Engine.Native/include bindings/r/engine_r.c \
    -Lout/native -lengine -Wl,-rpath,'$ORIGIN' -o out/native/engine_r.so
Rscript bindings/r/tests.R
Rscript bindings/r/mnist.R
