#!/usr/bin/env bash
# Builds the C harness bench/peers/gemm_peers.c into out/peers/gemm_peers (out/ is not committed).
# Needs gcc and the Debian packages libdnnl-dev (oneDNN 2.6) and libopenblas-dev (OpenBLAS 0.3.21);
# installs the missing ones with apt-get when run as root. Exits non-zero with one line on stderr when
# something is missing. Usage: bash bench/peers/build.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/bench/peers/gemm_peers.c"
out="$root/out/peers"

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[[ -f /usr/include/oneapi/dnnl/dnnl.h ]] || missing+=(libdnnl-dev)
# Debian's libopenblas-dev provides the cblas.h that declares the openblas_* extensions.
if ! grep -qs openblas_get_corename /usr/include/x86_64-linux-gnu/cblas.h /usr/include/cblas.h \
    || ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
  missing+=(libopenblas-dev)
fi

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "build.sh: installing ${missing[*]} with apt-get" >&2
    # Up to three tries, each after refreshing the lists: a mirror or the dpkg lock can fail once and not again.
    installed=0 log=$(mktemp)
    for attempt in 1 2 3; do
      if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>"$log"; then
        installed=1; break
      fi
      sleep $((attempt * 5))
      DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
    done
    last=$(tail -n 1 "$log"); rm -f "$log"
    ((installed)) || { echo "build.sh: apt-get could not install ${missing[*]}: $last" >&2; exit 1; }
  else
    echo "build.sh: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Check again after installing: a header or library that is still absent is a clear failure.
[[ -f /usr/include/oneapi/dnnl/dnnl.h ]] || { echo "build.sh: oneDNN header oneapi/dnnl/dnnl.h not found (libdnnl-dev)" >&2; exit 1; }
ldconfig -p | grep -q 'libdnnl\.so\.2' || { echo "build.sh: libdnnl.so.2 not found (libdnnl2/libdnnl-dev)" >&2; exit 1; }
ldconfig -p | grep -q 'libopenblas\.so\.0' || { echo "build.sh: libopenblas.so.0 not found (libopenblas-dev)" >&2; exit 1; }

mkdir -p "$out"
# The libraries are dlopen'ed at run time (only the one being timed is loaded); their headers give the
# prototypes. -fopenmp links libgomp, the OpenMP runtime Debian's oneDNN is built with (omp_set_num_threads).
gcc -std=c11 -O2 -Wall -fopenmp -o "$out/gemm_peers" "$src" -ldl -lm \
  || { echo "build.sh: gcc failed to compile $src" >&2; exit 1; }
echo "built $out/gemm_peers"
