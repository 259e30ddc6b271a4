#!/usr/bin/env bash
# Checks the native tarball as a user gets it (the one given, else a fresh tools/package-native.sh build): unpacks it into an empty directory,
# builds a small C program with `pkg-config --cflags --libs engine` and runs it. Prints "native package: N checks, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
checks=0 failed=0
check() { checks=$((checks + 1)); if [ "$1" = 0 ]; then echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -ge 1 ]; then
  tarball=$1   # an artifact of tools/package.sh (tools/check-packages.sh)
  [ -f "$tarball" ]; check $? "the tarball $(basename "$tarball") exists"
else
  tarball=$(tools/package-native.sh "$work/dist" | tail -n 1)
  check $? "tools/package-native.sh built $(basename "${tarball:-nothing}")"
fi
mkdir "$work/unpacked" && tar -xzf "$tarball" -C "$work/unpacked"
root=$(echo "$work"/unpacked/engine-native-*)
for f in lib/libengine.so.0 lib/libengine.so lib/libengine-x86-64-v3.so lib/libengine-x86-64-v4.so include/engine.h lib/pkgconfig/engine.pc; do
  [ -e "$root/$f" ]; check $? "tarball holds $f"
done
grep -q 'SONAME.*\[libengine\.so\.0\]' <<< "$(readelf -d "$root/lib/libengine.so.0")"
check $? "libengine.so.0 carries SONAME libengine.so.0"
cat > "$work/app.c" <<'C'
#include <engine.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    float x[8] = {0, 255, 255, 0, 0, 250, 240, 10}, p[4];
    int32_t y[4] = {1, 0, 1, 0};
    engine_model m;
    engine_train_options o = {0};
    o.epochs = 50; o.batch_size = 4; o.learning_rate = 0.5f; o.seed = 1;
    if (engine_create("2-4-2 tanh", 255.0f, 1, NULL, 1, &m) != ENGINE_OK ||
        engine_train(m, x, y, 4, 2, &o, NULL) != ENGINE_OK ||
        engine_predict(m, x, 2, 2, p, 4) != ENGINE_OK) { printf("error: %s\n", engine_last_error()); return 1; }
    printf("engine %s (header %s): p(1 | 0,255) = %.3f\n", engine_version(), ENGINE_VERSION_STRING, p[1]);
    engine_free(m);
    return strncmp(engine_version(), ENGINE_VERSION_STRING, strlen(ENGINE_VERSION_STRING)) == 0 && p[1] > 0.5f ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$root/lib/pkgconfig"
flags=$(pkg-config --cflags --libs engine)
check $? "pkg-config --cflags --libs engine: $flags"
[ "$(pkg-config --modversion engine)" = "$(sed -n 's/^#define ENGINE_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/engine.h")" ]
check $? "engine.pc version $(pkg-config --modversion engine) matches engine.h"
# shellcheck disable=SC2086
gcc -std=c11 -Wall -Werror "$work/app.c" $flags -o "$work/app"
check $? "a C program builds against the unpacked tree"
(cd "$work" && env -u LD_LIBRARY_PATH ./app)
check $? "it runs, finding libengine.so.0 through the package's rpath"
if command -v qemu-x86_64 >/dev/null; then
  (cd "$work" && env -u LD_LIBRARY_PATH qemu-x86_64 -cpu Haswell ./app)
  check $? "it runs on a CPU without AVX-512 (qemu-x86_64 -cpu Haswell)"
fi
echo "native package: $checks checks, $failed failed"
[ "$failed" = 0 ]
