#!/usr/bin/env bash
# Checks the artifacts of tools/package.sh as a user meets them, from out/ only (no checkout paths at run
# time, every program started in an empty directory):
#   - the dotnet tool: installed with `dotnet tool install --tool-path` into an empty directory from the package
#     of this machine's platform (not the all-platform fallback), prints the version, trains one epoch on the bundled digits it carries, and draws a report (SkiaSharp's native library);
#   - the library: a fresh `dotnet new console` project referencing Engine.Core from out/nuget runs the
#     package README's example (train, evaluate, predict, save, reload on the reference backend);
#   - the R package: R CMD INSTALL into a temporary library, then the write-up's network (784-128-10 tanh on
#     the bundled digits, >= 93 % test accuracy), and R CMD check --no-manual without ERROR or WARNING;
#   - the Python wheel: installed into a fresh venv, trains and passes scikit-learn's check_estimator;
#   - the C tarball: a program built with pkg-config against the unpacked tree runs.
# Ends with "package checks: N checks, M failed"; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
version=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' Directory.Build.props)
feed="$root/out/nuget"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private package cache: a stale Engine.* 0.5.0 in the user's cache cannot stand in for the fresh artifacts.
# The user's cache serves the third-party dependencies (fallback folder), nuget.org whatever is missing.
export NUGET_PACKAGES="$work/nuget-cache"
cat > "$work/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="artifacts" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="user" value="$HOME/.nuget/packages" />
  </fallbackPackageFolders>
</configuration>
CONFIG

checks=0 failed=0
result() { # ok(0|1) description [output to show on failure]
  checks=$((checks + 1))
  if [ "$1" = 0 ]; then echo "ok: $2"; else failed=$((failed + 1)); echo "FAIL: $2"; [ -n "${3:-}" ] && echo "$3" | tail -n 15; fi
}

# 1. The dotnet tool.
tool="$work/tool" empty="$work/empty"
mkdir -p "$empty"
out=$(dotnet tool install --tool-path "$tool" --configfile "$work/nuget.config" Engine.Cli --version "$version" 2>&1)
result $? "dotnet tool install Engine.Cli $version" "$out"
# The pointer package sends the install to this platform's package, which carries no other platform's natives.
rid=$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')
store="$tool/.store/engine.cli/$version"
others=$(find "$store" -path '*/runtimes/*' -name '*.so' -o -path '*/runtimes/*' -name '*.dll' -o -name '*.dylib' 2>/dev/null | wc -l)
size=$(du -sm "$store" 2>/dev/null | cut -f1)
[ -d "$store/engine.cli.$rid" ] && [ "$others" = 0 ]
result $? "the tool came from its $rid package (${size:-?} MB installed, $others other platforms' natives)" "$(ls "$store" 2>&1)"
out=$(cd "$empty" && "$tool/engine" --version 2>&1)
[ "${out%%+*}" = "$version" ]; result $? "engine --version prints $version (got: $out)"
out=$(cd "$empty" && "$tool/engine" train --epochs 1 --threads 2 2>&1); status=$?
acc=$(echo "$out" | grep -oE '^test set \(2000 examples\): accuracy [0-9.]+' | grep -oE '[0-9.]+$')
[ "$status" = 0 ] && [ -n "$acc" ]; result $? "engine train --epochs 1 in an empty directory (bundled digits): test accuracy ${acc:-none} %" "$out"
[ -z "$(ls -A "$empty")" ]; result $? "training without --out leaves the working directory empty"
# The report draws its plots with SkiaSharp: its native library must have come with the tool.
out=$(cd "$work" && "$tool/engine" train --epochs 1 --hidden 32 --out "$work/m.model" >/dev/null 2>&1 \
      && "$tool/engine" report --model "$work/m.model" --out "$work/report" 2>&1)
status=$?; pngs=$(ls "$work/report/"*.png 2>/dev/null | wc -l)
[ "$status" = 0 ] && [ -f "$work/report/report.html" ] && [ "$pngs" -gt 0 ]
result $? "engine report draws its plots with the tool's SkiaSharp ($pngs PNG files)" "$out"

# 2. The library from a fresh console project.
app="$work/app"
dotnet new console -o "$app" -n PackageCheck --framework net10.0 >/dev/null 2>&1
cp "$work/nuget.config" "$app/"
# The package README's example is the program (so the README's code is what gets compiled and run).
unzip -p "$feed/Engine.Core.$version.nupkg" README.md \
  | sed -n '/<!-- package-example:start -->/,/<!-- package-example:end -->/p' | grep -v -e '<!--' -e '```' > "$app/Program.cs"
out=$(cd "$app" && dotnet add package Engine.Core --version "$version" 2>&1)
result $? "dotnet add package Engine.Core $version" "$out"
out=$(cd "$app" && dotnet build -c Release -nologo -v quiet 2>&1)
result $? "console project builds against the package" "$out"
bin="$app/bin/Release/net10.0"
unzip -p "$feed/Engine.Core.$version.nupkg" lib/net10.0/Engine.Core.dll > "$work/Engine.Core.dll"
cmp -s "$work/Engine.Core.dll" "$bin/Engine.Core.dll"; result $? "the project uses the Engine.Core.dll of out/nuget"
out=$(cd "$empty" && dotnet "$bin/PackageCheck.dll" 2>&1); status=$?
acc=$(echo "$out" | sed -n 's/^accuracy \([0-9.]*\) %.*/\1/p')
again=$(echo "$out" | sed -n 's/^reloaded on the reference backend: accuracy \([0-9.]*\) %.*/\1/p')
[ "$status" = 0 ] && [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 85) }'
result $? "package README example trains on the bundled digits: accuracy ${acc:-none} %" "$out"
[ -n "$acc" ] && [ "$acc" = "$again" ]; result $? "saved model reloaded on the reference backend gives the same accuracy (${again:-none} %)"

# 3. The R package.
if command -v R >/dev/null; then
  rlib="$work/rlib"
  mkdir -p "$rlib"
  out=$(R CMD INSTALL -l "$rlib" "$root/out/r/enginenn_$version.tar.gz" 2>&1)
  result $? "R CMD INSTALL enginenn_$version.tar.gz into a temporary library" "$out"
  out=$(cd "$empty" && R_LIBS="$rlib" Rscript -e 'source(system.file("examples", "mnist.R", package = "enginenn"))' 2>&1)
  status=$?
  acc=$(echo "$out" | sed -n 's/^test accuracy \([0-9.]*\) %/\1/p')
  [ "$status" = 0 ] && [ -n "$acc" ]; result $? "R: the write-up's 784-128-10 tanh network, 30 epochs: test accuracy ${acc:-none} % (needs 93 %)" "$out"
  # R CMD check on the tarball itself: an ERROR or WARNING fails (the one expected NOTE is the shipped libengine.so).
  out=$(cd "$work" && _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual -o "$work" "$root/out/r/enginenn_$version.tar.gz" 2>&1)
  status=$(echo "$out" | grep -E '^Status:' || echo "Status: no result")
  echo "$out" | grep -E '^\* checking .*(NOTE|WARNING|ERROR)$' | sed 's/^/  /'
  ! echo "$status" | grep -qE 'ERROR|WARNING|no result'; result $? "R CMD check --no-manual: ${status#Status: }" "$out"
  out=$(cd "$empty" && R_LIBS="$rlib" Rscript -e 'cat(enginenn::engine_version(), as.character(packageVersion("enginenn")))' 2>&1)
  [ "$out" = "$version $version" ]; result $? "R: engine_version() and the package version are $version (got: $out)"
else
  result 1 "R is not installed: the R package was not checked"
fi

# 4. The Python wheel: a fresh venv (with the system's NumPy and scikit-learn), pip install of the wheel file alone,
#    then, from an empty directory, training on uint8 and float64 arrays and check_estimator (bindings/python/wheel_check.py).
wheel=$(ls "$root"/out/python/engine_nn-"$version"-*.whl 2>/dev/null | head -n 1)
python=/usr/bin/python3; [ -x "$python" ] || python=python3
if [ -n "$wheel" ]; then
  out=$("$python" -m venv --system-site-packages "$work/venv" 2>&1 && "$work/venv/bin/python" -m pip install --no-deps --no-index -q "$wheel" 2>&1)
  result $? "pip install $(basename "$wheel") into a fresh venv" "$out"
  # On standard input, not by path: a script's own directory (the checkout) would come first on sys.path.
  out=$(cd "$empty" && env -u ENGINE_LIB -u PYTHONPATH "$work/venv/bin/python" - < "$root/bindings/python/wheel_check.py" 2>&1)
  echo "$out" | grep -q "^wheel ok $version"; result $? "the installed wheel trains on uint8 and float64 and passes check_estimator ($(echo "$out" | grep '^wheel ok' || echo failed))" "$out"
else
  result 1 "no engine_nn-$version wheel in out/python"
fi

# 5. The C tarball: unpacked, a program built with pkg-config --cflags --libs engine runs (and under qemu -cpu Haswell).
tarball=$(ls "$root"/out/native-pkg/engine-native-"$version"-*.tar.gz 2>/dev/null | head -n 1)
if [ -n "$tarball" ]; then
  out=$(bash "$root/bindings/c/test-package.sh" "$tarball" 2>&1)
  [[ "$out" =~ native\ package:\ ([0-9]+)\ checks,\ 0\ failed ]]; result $? "the C tarball through pkg-config: $(echo "$out" | grep '^native package' || echo failed)" "$out"
else
  result 1 "no engine-native-$version tarball in out/native-pkg"
fi

echo "package checks: $checks checks, $failed failed"
[ "$failed" = 0 ]
