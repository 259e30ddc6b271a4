#!/usr/bin/env bash
# Publishes libengine.so (NativeAOT) to out/native, builds the C test program against engine.h, and runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f out/native/libengine.so ] || dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native -v quiet -nologo
gcc -std=c11 -O2 -Wall -Wextra -Werror -Isrc/Engine.Native/include bindings/c/test_engine.c \
    -Lout/native -lengine -Wl,-rpath,'$ORIGIN' -lm -o out/native/test_engine
out/native/test_engine
gcc -std=c11 -O2 -Wall -Wextra -Werror -Isrc/Engine.Native/include bindings/c/sgemm_bench.c \
    -Lout/native -lengine -Wl,-rpath,'$ORIGIN' -o out/native/sgemm_bench
