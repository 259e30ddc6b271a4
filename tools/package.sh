#!/usr/bin/env bash
# The release command: builds every artifact from a clean checkout into out/.
#   out/nuget/       Engine.Core.<v>.nupkg (library) + .snupkg (symbols); the dotnet tool `engine`: Engine.Cli.<v>.nupkg,
#                    which points `dotnet tool install` at Engine.Cli.<rid>.<v>.nupkg for its platform (or .any.)
#   out/native/      libengine.so published with NativeAOT (what the R package embeds)
#   out/native-pkg/  the C tarball (tools/package-native.sh, when present)
#   out/python/      the Python wheel (tools/package-python.sh, when present)
#   out/r/           enginenn_<v>.tar.gz, the R source package (tools/package-r.sh)
# Every version comes from <Version> in Directory.Build.props. Check the artifacts with tools/check-packages.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
version=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' Directory.Build.props)
echo "packaging engine $version"

rm -rf out/nuget out/r   # the folders this script owns; the helper scripts clean their own
dotnet pack src/Engine -c Release -o out/nuget -nologo -v quiet
dotnet pack src/Engine.Cli -c Release -o out/nuget -nologo -v quiet -p:PackPerPlatform=true   # one tool package per platform
# ENGINE_REUSE_NATIVE=1 keeps an out/native that the caller has just published from this same checkout (CI does,
# for the front-end tests); a release builds it afresh.
if [ "${ENGINE_REUSE_NATIVE:-0}" != 1 ] || [ ! -f out/native/libengine.so ]; then
  rm -rf out/native
  dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native -nologo -v quiet
fi

for part in native:out/native-pkg python:out/python; do
  name=${part%%:*} dir=${part#*:}
  if [ -f "tools/package-$name.sh" ]; then
    bash "tools/package-$name.sh" "$dir"
  else
    echo "note: tools/package-$name.sh is absent: no $name package built"
  fi
done
if command -v R >/dev/null; then
  ENGINE_NATIVE_DIR=out/native bash tools/package-r.sh out/r >/dev/null
else
  echo "note: R is not installed: no R package built"
fi

echo "artifacts:"
for dir in out/nuget out/native-pkg out/python out/r; do
  [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f ! -name '*.log' -printf '  %p  %s bytes\n' | sort
done
