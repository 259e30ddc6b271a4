#!/usr/bin/env bash
# The R front end as a user gets it: builds the enginenn source package (tools/package-r.sh, with libengine.so
# from out/native, published when missing), installs it into a temporary library, runs its tests and then
# the write-up's MNIST network (bindings/r/enginenn/inst/examples/mnist.R; exits non-zero below 93 %).
set -euo pipefail
cd "$(dirname "$0")/../.."
tarball=$(tools/package-r.sh out/r | tail -n 1)
lib=$(mktemp -d)
trap 'rm -rf "$lib"' EXIT
R CMD INSTALL --no-test-load -l "$lib" "$tarball" >"$lib/install.log" 2>&1 || { cat "$lib/install.log"; exit 1; }
cd "$lib"   # away from the checkout: the package must find its library and data by itself
R_LIBS="$lib" Rscript "$OLDPWD/bindings/r/enginenn/tests/tests.R"
R_LIBS="$lib" Rscript -e 'source(system.file("examples", "mnist.R", package = "enginenn"))'
