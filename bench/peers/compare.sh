#!/usr/bin/env bash
# Side-by-side SGEMM: the engine (`engine bench --gemm`), oneDNN's dnnl_sgemm and OpenBLAS's cblas_sgemm
# (bench/peers/gemm_peers) on the same shapes and thread counts, interleaved shape by shape so that noise
# hits all three alike, and a markdown table of median GFLOP/s and ratios on stdout.
#
#   bash bench/peers/compare.sh [--gemm SHAPES] [--threads 1,2] [--repeat N] [--seconds S]
#                               [--engine PATH] [--peers PATH] [--coretype NAME|auto|none]
#                               [--no-check] [--keep-env] [--raw DIR]
#
# Build first: `bash bench/peers/build.sh` and `dotnet build src/Engine.Cli -c Release`.
# See bench/peers/README.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
args_text="$(printf '%q ' "$@")"

shapes="1024x1024x1024,2048x2048x2048,32x128x784,64x128x784,128x512x784,256x1024x784,128x1024x784,784x128x32TN,784x512x128TN,32x784x128NT,128x784x512NT"
threads_list="1,2"
repeat=3
seconds=0.3
engine="$root/src/Engine.Cli/bin/Release/net10.0/engine.dll"
peers="$root/out/peers/gemm_peers"
coretype=auto
check=1
keep_env=0
raw=""

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --gemm) shapes="$2"; shift 2 ;;
    --threads) threads_list="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    --peers) peers="$2"; shift 2 ;;
    --coretype) coretype="$2"; shift 2 ;;
    --no-check) check=0; shift ;;
    --keep-env) keep_env=1; shift ;;
    --raw) raw="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --repeat must be a positive integer, got '$repeat'" >&2; exit 2; }
[[ -f "$engine" ]] || { echo "compare.sh: engine not found at $engine (dotnet build src/Engine.Cli -c Release, or --engine PATH)" >&2; exit 1; }
[[ -x "$peers" ]] || { echo "compare.sh: $peers not found (bash bench/peers/build.sh, or --peers PATH)" >&2; exit 1; }
python=/usr/bin/python3
[[ -x $python ]] || python=python3

# The engine runs as `dotnet engine.dll` or as an executable (a published engine).
if [[ "$engine" == *.dll ]]; then engine_cmd=(dotnet "$engine"); else engine_cmd=("$engine"); fi

# Environment: by default the peers run with their own defaults (inherited OPENBLAS_*, GOTO_*, OMP_*, DNNL_*,
# ONEDNN_*, KMP_* variables are removed: a stray OPENBLAS_L2_SIZE or OPENBLAS_CORETYPE would change what is
# measured); ENGINE_* variables are the engine's documented experiment knobs and are kept and printed.
if ((!keep_env)); then
  while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(\(OPENBLAS\|GOTO\|OMP\|GOMP\|DNNL\|ONEDNN\|KMP\)_[A-Za-z0-9_]*\)=.*/\1/p')
fi
if [[ "$coretype" == auto ]]; then
  if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; else coretype=none; fi
fi
ob_env=()
[[ "$coretype" != none ]] && ob_env=(OPENBLAS_CORETYPE="$coretype")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[[ -n "$raw" ]] && mkdir -p "$raw"

IFS=',' read -r -a shape_arr <<<"$shapes"
IFS=',' read -r -a thread_arr <<<"$threads_list"

# One run: lib (engine|dnnl|openblas), shape, threads, round -> $work/<round>_<lib>_<threads>_<index>.json
run_one() {
  local lib="$1" shape="$2" t="$3" r="$4" i="$5" file extra=()
  file="$work/${r}_${lib}_${t}_${i}.json"
  case "$lib" in
    engine) "${engine_cmd[@]}" bench --gemm "$shape" --threads "$t" --backend simd --json >"$file" ;;
    dnnl) "$peers" --lib dnnl --gemm "$shape" --threads "$t" --seconds "$seconds" --json >"$file" ;;
    openblas) env "${ob_env[@]}" "$peers" --lib openblas --gemm "$shape" --threads "$t" --seconds "$seconds" --json >"$file" ;;
  esac
}

# Correctness first: each shape once through each peer (exits on a wrong result).
if ((check)); then
  for lib in dnnl openblas; do
    pre=(); [[ $lib == openblas ]] && pre=("${ob_env[@]}")
    env "${pre[@]}" "$peers" --lib "$lib" --gemm "$shapes" --threads 1 --check-only >/dev/null 2>"$work/check_$lib.txt" \
      || { cat "$work/check_$lib.txt" >&2; echo "compare.sh: $lib failed the correctness check" >&2; exit 1; }
  done
fi

libs=(engine dnnl openblas)
failed=0
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= repeat; r++)); do
  for i in "${!shape_arr[@]}"; do
    shape="${shape_arr[$i]// /}"
    for t in "${thread_arr[@]}"; do
      # Rotate the order of the three per shape and round, so no library always runs first or last.
      for ((j = 0; j < 3; j++)); do
        lib="${libs[$(((i + r + j) % 3))]}"
        echo "round $r/$repeat: $shape, $t thread(s), $lib" >&2
        run_one "$lib" "$shape" "$t" "$r" "$i" || { echo "compare.sh: $lib failed on $shape at $t thread(s)" >&2; failed=1; }
      done
    done
  done
done
[[ -n "$raw" ]] && cp "$work"/*.json "$raw"/ 2>/dev/null || true

# Header facts.
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
cpu_line="$(lscpu | awk -F: '/^CPU family|^Model:|^Thread\(s\) per core|^Core\(s\) per socket|^Socket\(s\)/ {gsub(/^[ \t]+/, "", $2); printf "%s %s; ", $1, $2}')"
info="$("${engine_cmd[@]}" info 2>&1 || true)"
commit="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
dnnl_info="$("$peers" --lib dnnl --gemm 1x1x1 --threads 1 --info --check-only 2>/dev/null | head -1)"
ob_info="$(env "${ob_env[@]}" "$peers" --lib openblas --gemm 1x1x1 --threads 1 --info --check-only 2>/dev/null | head -1)"
engine_env="$(env | grep '^ENGINE_' | tr '\n' ' ' || true)"

export CMP_WORK="$work" CMP_SHAPES="$shapes" CMP_THREADS="$threads_list" CMP_REPEAT="$repeat" CMP_MODEL="$model" \
  CMP_CPU="$cpu_line" CMP_INFO="$info" CMP_COMMIT="$commit" CMP_DNNL="$dnnl_info" CMP_OB="$ob_info" \
  CMP_ENGINE_CMD="${engine_cmd[*]}" CMP_PEERS="$peers" CMP_SECONDS="$seconds" CMP_OBENV="${ob_env[*]}" \
  CMP_ENGINE_ENV="$engine_env" CMP_KEEP_ENV="$keep_env" CMP_CHECK="$check" CMP_ARGS="$args_text" \
  CMP_LOAD="$load_before before, $load_after after"
"$python" - <<'PY'
import glob, json, os, re, statistics, datetime, platform

e = os.environ
work = e["CMP_WORK"]
shapes = [s.strip() for s in e["CMP_SHAPES"].split(",") if s.strip()]
threads = [int(t) for t in e["CMP_THREADS"].split(",") if t.strip()]
repeat = int(e["CMP_REPEAT"])

def gflops(path):
    """The run's GFLOP/s, or None for a failed run. engine bench --json wraps its rows with the provenance
    ({"results": [...]}); gemm_peers prints the rows."""
    try:
        data = json.load(open(path))
        rows = data["results"] if isinstance(data, dict) else data
        return float(rows[0]["gflops"])
    except Exception:
        return None

def peak(path):
    """The FMA peak the engine run measured on its thread count just before its product, or None."""
    try:
        return float(json.load(open(path))["fmaPeakGflops"])
    except Exception:
        return None

peaks = {}  # threads -> [FMA peak of each engine run]
for path in glob.glob(os.path.join(work, "*_engine_*_*.json")):
    p = peak(path)
    if p is not None:
        peaks.setdefault(int(os.path.basename(path).split("_")[2]), []).append(p)

runs = {}  # (lib, threads, shape index) -> [gflops per round]
for path in glob.glob(os.path.join(work, "*_*_*_*.json")):
    r, lib, t, i = os.path.basename(path)[:-5].split("_")
    g = gflops(path)
    if g is None:
        continue
    runs.setdefault((lib, int(t), int(i)), []).append(g)

def label(s):
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)(TT|TN|NT|T)?", s.upper().replace("X", "x"))
    if not m:
        return s
    op = m.group(4) or "NN"
    if op == "T":
        op = "TN"
    return f"{m.group(1)}×{m.group(2)}×{m.group(3)} {op}"

def med(lib, t, i):
    v = runs.get((lib, t, i))
    return statistics.median(v) if v else None

def fmt(x):
    return "–" if x is None else f"{x:.1f}"

def ratio(a, b):
    return "–" if a is None or b is None or b == 0 else f"{a / b:.2f}"

info_lines = [l.rstrip() for l in e["CMP_INFO"].splitlines()
              if re.match(r"(engine|\.NET|chosen isa|caches|gemm blocks)\s", l)]

print("# SGEMM: engine vs oneDNN vs OpenBLAS")
print()
print(f"- Host: **{e['CMP_MODEL']}** ({e['CMP_CPU'].strip().rstrip(';')}); {platform.system()} {platform.release()}")
for line in info_lines:
    print(f"- engine info: `{' '.join(line.split())}`")
print(f"- Commit: {e['CMP_COMMIT']}; date {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
print(f"- oneDNN: {e['CMP_DNNL']}")
print(f"- OpenBLAS: {e['CMP_OB']}")
env_note = "inherited OPENBLAS_/GOTO_/OMP_/GOMP_/DNNL_/ONEDNN_/KMP_ variables removed" if e["CMP_KEEP_ENV"] == "0" else "environment kept as inherited (--keep-env)"
eng_env = e["CMP_ENGINE_ENV"].strip()
print(f"- Environment: {env_note}; ENGINE_ variables: {eng_env or 'none'}")
print(f"- Load average (1, 5, 15 min): {e['CMP_LOAD']}; on this 2-core VM anything else running shows up here and in the 2-thread rows")
for t in threads:
    if peaks.get(t):
        v = peaks[t]
        print(f"- FMA peak on {t} thread{'s' if t > 1 else ''}, measured by each engine run before its product: "
              f"{min(v):.0f}–{max(v):.0f} GFLOP/s, median {statistics.median(v):.0f}"
              + (" (on a VM it falls towards the 1-thread figure while the vCPUs share a physical core; 2-thread rows of such rounds measure that, not the code)" if t > 1 else ""))
print(f"- Rounds: {repeat}, interleaved per shape (engine, oneDNN, OpenBLAS in rotating order); each cell is the median over rounds of each run's median GFLOP/s")
print(f"- Correctness: {'each shape checked against a naive double-precision loop through both peers (gemm_peers --check)' if e['CMP_CHECK'] == '1' else 'not checked (--no-check)'}")
print("- Commands (per shape S and threads T):")
print(f"  - engine: `{e['CMP_ENGINE_CMD']} bench --gemm S --threads T --backend simd --json`")
print(f"  - oneDNN: `{e['CMP_PEERS']} --lib dnnl --gemm S --threads T --seconds {e['CMP_SECONDS']} --json`")
obenv = (e["CMP_OBENV"] + " ") if e["CMP_OBENV"] else ""
print(f"  - OpenBLAS: `{obenv}{e['CMP_PEERS']} --lib openblas --gemm S --threads T --seconds {e['CMP_SECONDS']} --json`")
print(f"  - this table: `bash bench/peers/compare.sh {e['CMP_ARGS']}`".rstrip() + "")
print()
print("| shape M×N×K op | threads | engine GFLOP/s | oneDNN | OpenBLAS | engine/oneDNN | engine/OpenBLAS |")
print("|---|---:|---:|---:|---:|---:|---:|")
for t in threads:
    for i, s in enumerate(shapes):
        en, dn, ob = med("engine", t, i), med("dnnl", t, i), med("openblas", t, i)
        print(f"| {label(s)} | {t} | {fmt(en)} | {fmt(dn)} | {fmt(ob)} | {ratio(en, dn)} | {ratio(en, ob)} |")
if repeat > 1:
    print()
    print("Every round (GFLOP/s, in round order):")
    print()
    print("| shape | threads | engine | oneDNN | OpenBLAS | FMA peak (engine's run) |")
    print("|---|---:|---|---|---|---|")
    for t in threads:
        for i, s in enumerate(shapes):
            def in_round_order(lib):
                return sorted(glob.glob(os.path.join(work, f"*_{lib}_{t}_{i}.json")), key=lambda p: int(os.path.basename(p).split("_")[0]))
            cells = []
            for lib in ("engine", "dnnl", "openblas"):
                vals = [gflops(p) for p in in_round_order(lib)]
                cells.append(", ".join("failed" if v is None else f"{v:.0f}" for v in vals) or "–")
            peak_values = [peak(p) for p in in_round_order("engine")]
            cells.append(", ".join("–" if v is None else f"{v:.0f}" for v in peak_values) or "–")
            print(f"| {label(s)} | {t} | {' | '.join(cells)} |")
PY
exit "$failed"
