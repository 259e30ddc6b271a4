#!/usr/bin/env bash
# The native tarball: tools/package-native.sh OUTDIR  ->  OUTDIR/engine-native-<version>-linux-x64.tar.gz holding
#   engine-native-<version>-linux-x64/lib/libengine.so.0        (the dispatcher, SONAME libengine.so.0, which loads
#                                    lib/libengine-x86-64-v3.so  one of the two NativeAOT builds beside it: AVX2
#                                    lib/libengine-x86-64-v4.so  baseline, or AVX-512 where the CPU has it)
#                                    lib/libengine.so -> libengine.so.0   (for -lengine)
#                                    lib/pkgconfig/engine.pc    (relocatable through ${pcfiledir})
#                                    include/engine.h
# Use: tar xzf engine-native-*.tar.gz; PKG_CONFIG_PATH=$PWD/engine-native-*/lib/pkgconfig cc app.c $(pkg-config --cflags --libs engine)
# Uses the published library in out/native (publishes it when missing).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: tools/package-native.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
[ -f out/native/libengine.so ] || dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native -nologo -v quiet
header=src/Engine.Native/include/engine.h
version=$(sed -n 's/^#define ENGINE_VERSION_STRING "\(.*\)"$/\1/p' "$header")
[ -n "$version" ] || { echo "no ENGINE_VERSION_STRING in $header" >&2; exit 1; }
name=engine-native-$version-linux-x64
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/lib/pkgconfig" "$root/include"
cp out/native/libengine.so "$root/lib/libengine.so.0"
for variant in out/native/libengine-x86-64-v*.so; do cp "$variant" "$root/lib/"; done
ln -s libengine.so.0 "$root/lib/libengine.so"
cp "$header" "$root/include/"
sed "s/@VERSION@/$version/" src/Engine.Native/pkgconfig/engine.pc.in > "$root/lib/pkgconfig/engine.pc"
[ -f LICENSE ] && cp LICENSE "$root/"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
