#!/usr/bin/env bash
# Coverage-guided fuzzing of every file reader with AFL++ and SharpFuzz.
# Usage: fuzz/run.sh [seconds per target, default 60] [targets..., default: idx csv model npz checkpoint onnx safetensors]
# Prints one line per target (executions, corpus size, crashes, hangs); findings land in out/fuzz/findings/.
# Exits 1 when any target crashed or hung: reproduce with `dotnet out/fuzz/bin/Engine.Fuzz.dll TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=${*:-idx csv model npz checkpoint onnx safetensors}

if ! command -v afl-fuzz >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
tools=out/fuzz/tools
[ -x $tools/sharpfuzz ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path $tools >/dev/null
rm -rf out/fuzz/bin out/fuzz/findings && mkdir -p out/fuzz/findings
dotnet publish fuzz/Engine.Fuzz -c Release -o out/fuzz/bin -nologo -v quiet
$tools/sharpfuzz out/fuzz/bin/Engine.Core.dll   # instrument the library, not the harness

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1
found=0
for t in $targets; do
  out=out/fuzz/findings/$t
  afl-fuzz -i fuzz/corpus/$t -o "$out" -V "$seconds" -t 5000 -m none -- dotnet out/fuzz/bin/Engine.Fuzz.dll "$t" >"$out.log" 2>&1 || true
  stats=$out/default/fuzzer_stats
  if [ ! -f "$stats" ]; then echo "fuzz $t: afl-fuzz did not start (see $out.log)"; tail -n 5 "$out.log"; found=1; continue; fi
  get() { grep -E "^$1 " "$stats" | awk -F': ' '{print $2}' | tr -d ' '; }
  crashes=$(get saved_crashes); hangs=$(get saved_hangs)
  echo "fuzz $t: $(get execs_done) executions in ${seconds} s, corpus $(get corpus_count) inputs, $crashes crashes, $hangs hangs"
  [ "${crashes:-0}" = 0 ] && [ "${hangs:-0}" = 0 ] || found=1
done
exit $found
