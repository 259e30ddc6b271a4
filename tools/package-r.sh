#!/usr/bin/env bash
# Builds the R source package enginenn into OUTDIR (default out/r): OUTDIR/enginenn_<version>.tar.gz.
# The package carries the native library (libengine.so from `dotnet publish src/Engine.Native`, taken from
# $ENGINE_NATIVE_DIR or out/native, published there when missing) under inst/lib, engine.h, and the bundled
# digits under inst/extdata; its C code links the library with an rpath relative to itself, so an installed
# package needs no environment variable. Usage: tools/package-r.sh [OUTDIR] [--check]
#   --check   also runs `R CMD check --no-manual` on the tarball and fails on an ERROR or WARNING.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
outdir=out/r check=0
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    -*) echo "package-r.sh: unknown option $a" >&2; exit 2 ;;
    *) outdir=$a ;;
  esac
done
command -v R >/dev/null || { echo "package-r.sh: R is not installed (Debian: apt-get install r-base-core)" >&2; exit 1; }

version=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' Directory.Build.props)
desc_version=$(sed -n 's/^Version: *//p' bindings/r/enginenn/DESCRIPTION)
[ "$version" = "$desc_version" ] || { echo "package-r.sh: DESCRIPTION says $desc_version, Directory.Build.props $version" >&2; exit 1; }

native=${ENGINE_NATIVE_DIR:-out/native}
if [ ! -f "$native/libengine.so" ]; then
  dotnet publish src/Engine.Native -c Release -r linux-x64 -o "$native" -nologo -v quiet
fi
lib="$native/libengine.so"
# Ship the library under its SONAME when it has one (the name the dynamic linker will look for).
soname=$(objdump -p "$lib" 2>/dev/null | sed -n 's/^ *SONAME *//p')
libname=${soname:-libengine.so}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/enginenn"
cp -r bindings/r/enginenn "$pkg"
rm -f "$pkg/src/"*.o "$pkg/src/"*.so
mkdir -p "$pkg/inst/lib" "$pkg/inst/extdata/mnist-10k"
cp src/Engine.Native/include/engine.h "$pkg/src/"
cp "$lib" "$pkg/inst/lib/$libname"
# libengine.so is the dispatcher: it loads the x86-64-v3 or -v4 build from its own directory, so they travel with it.
for variant in "$native"/libengine-x86-64-v*.so; do [ -f "$variant" ] && cp "$variant" "$pkg/inst/lib/"; done
chmod 644 "$pkg/inst/lib/"*.so*
cp data/mnist-10k/*.gz "$pkg/inst/extdata/mnist-10k/"
# -l:NAME links the exact file; $ORIGIN/../lib is enginenn/lib seen from the installed enginenn/libs/enginenn.so.
cat > "$pkg/src/Makevars" <<MAKEVARS
PKG_CPPFLAGS = -I.
PKG_LIBS = -L../inst/lib -l:$libname -Wl,-rpath,'\$\$ORIGIN/../lib'
MAKEVARS

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
(cd "$stage" && R CMD build --no-manual enginenn >build.log 2>&1) || { cat "$stage/build.log"; exit 1; }
tarball="enginenn_${version}.tar.gz"
mv "$stage/$tarball" "$outdir/"
echo "$outdir/$tarball"

if [ "$check" = 1 ]; then
  (cd "$stage" && _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual "$outdir/$tarball" >check.log 2>&1) || true
  grep -E "^\* checking .*(NOTE|WARNING|ERROR)|^Status:" "$stage/check.log" || true
  status=$(grep -E "^Status:" "$stage/check.log" || echo "Status: no result")
  cp "$stage/check.log" "$outdir/R-CMD-check.log"
  if echo "$status" | grep -qE "ERROR|WARNING|no result"; then
    tail -n 40 "$stage/check.log"
    echo "package-r.sh: R CMD check: $status (log: $outdir/R-CMD-check.log)" >&2
    exit 1
  fi
  echo "R CMD check: $status"
fi
