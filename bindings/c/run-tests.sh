#!/usr/bin/env bash
# Publishes libengine.so (NativeAOT) to out/native if missing, builds the C test program against engine.h and runs it:
#  1. natively (the dispatcher picks the AVX-512 build where the CPU has it);
#  2. with every instruction-set path forced (ENGINE_ISA) and with the x86-64-v3 build forced (ENGINE_NATIVE_VARIANT):
#     each must give the same bits (the digest of a fixed training run's probabilities);
#  3. under qemu-x86_64 -cpu Haswell (a CPU without AVX-512): same checks, same digest, the v3 build chosen;
#  4. the native tarball through pkg-config (test-package.sh).
# Ends with "C front end: N checks, M failed" (the line .ci/run counts).
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -f out/native/libengine.so ] || dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native -v quiet -nologo
gcc -std=c11 -O2 -Wall -Wextra -Werror -Isrc/Engine.Native/include bindings/c/test_engine.c \
    -Lout/native -lengine -Wl,-rpath,'$ORIGIN' -lm -o out/native/test_engine || { echo "C front end: 0 checks, 1 failed"; exit 1; }
gcc -std=c11 -O2 -Wall -Wextra -Werror -Isrc/Engine.Native/include bindings/c/sgemm_bench.c \
    -Lout/native -lengine -Wl,-rpath,'$ORIGIN' -o out/native/sgemm_bench || { echo "C front end: 0 checks, 1 failed"; exit 1; }

checks=0 failed=0
check() { checks=$((checks + 1)); if [ "$1" = 0 ]; then echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }
# Runs the C tests (arguments: a command prefix) and leaves their digest line in $digest. The first (native) run
# adds every check to the count; each later run under other conditions counts as one check: all of its checks pass.
first_run=1
run_tests() {
  local out runs=0 bad=1
  out=$("$@" out/native/test_engine 2>&1); echo "$out" | grep -E '^FAIL' | head -n 20
  if [[ "$out" =~ ([0-9]+)\ checks,\ ([0-9]+)\ failed ]]; then runs=${BASH_REMATCH[1]}; bad=${BASH_REMATCH[2]}; else echo "$out" | tail -n 5; fi
  if [ "$first_run" = 1 ]; then
    echo "$out" | tail -n 1
    checks=$((checks + runs)); failed=$((failed + bad)); [ "$runs" = 0 ] && failed=$((failed + 1)) && checks=$((checks + 1))
    first_run=0
  else
    [ "$runs" -gt 0 ] && [ "$bad" = 0 ]; check $? "C tests under \"$*\": $runs checks, $bad failed"
  fi
  digest=$(grep -E '^digest ' <<< "$out" || echo "no digest")
}

# The dispatcher compiles without a warning (publish builds it without -Werror, so a new compiler cannot break it).
for compiler in gcc clang; do
  command -v $compiler >/dev/null || continue
  $compiler -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -Isrc/Engine.Native/include \
      src/Engine.Native/dispatch/engine_dispatch.c -o out/native/dispatch-check.so -ldl -lpthread
  check $? "src/Engine.Native/dispatch/engine_dispatch.c compiles with $compiler -Wall -Wextra -Werror"
  rm -f out/native/dispatch-check.so
done

run_tests env
native=$digest
echo "native: $native"
for isa in avx512 avx2 vector scalar; do
  if [ "$isa" = avx512 ] && ! grep -qw avx512f /proc/cpuinfo; then echo "skip ENGINE_ISA=avx512: this CPU has no AVX-512"; continue; fi
  run_tests env ENGINE_ISA=$isa
  [ "$digest" = "${native% (*} (instruction set $isa)" ]; check $? "ENGINE_ISA=$isa gives the native bits: $digest"
done
run_tests env ENGINE_NATIVE_VARIANT=x86-64-v3
[ "${digest% (*}" = "${native% (*}" ] && [[ "$digest" == *"(instruction set avx2)" ]]
check $? "the x86-64-v3 build gives the same bits on AVX2: $digest"
if grep -qw avx512f /proc/cpuinfo; then
  [[ "$native" == *"(instruction set avx512)" ]]; check $? "on this AVX-512 CPU the dispatcher picks the AVX-512 build: $native"
fi

# A CPU without AVX-512: Haswell (AVX2 + FMA) emulated by qemu-user.
if command -v qemu-x86_64 >/dev/null; then
  run_tests qemu-x86_64 -cpu Haswell
  [ "${digest% (*}" = "${native% (*}" ] && [[ "$digest" == *"(instruction set avx2)" ]]
  check $? "under qemu-x86_64 -cpu Haswell: the v3 build, the same bits: $digest"
  out=$(ENGINE_NATIVE_VARIANT=x86-64-v4 qemu-x86_64 -cpu Haswell out/native/test_engine 2>&1)
  grep -q "needs an x86-64 CPU with AVX-512" <<< "$out"
  check $? "forcing the AVX-512 build on Haswell gives a clear error, not a crash: $(grep -m1 -oE 'last error: [^)]*\)' <<< "$out")"
else
  echo "skip qemu: qemu-x86_64 is not installed (Debian: apt-get install qemu-user), so the run on a CPU without AVX-512 is not shown"
fi

# The native tarball as a user gets it.
pkg_out=$(bindings/c/test-package.sh 2>&1); echo "$pkg_out"
if [[ "$pkg_out" =~ native\ package:\ ([0-9]+)\ checks,\ ([0-9]+)\ failed ]]; then
  checks=$((checks + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
else
  check 1 "bindings/c/test-package.sh gave no result"
fi

echo "C front end: $checks checks, $failed failed"
[ "$failed" = 0 ]
