#!/usr/bin/env bash
# How long `mesa serve` takes to have the site rebuilt after one ticket changes, on a synthetic
# desk (default 100,000 tickets and 1,000 articles), measured from the write to the moment the
# server's /__mesa/version changes (what the open page's reload script waits for).
#
#   scripts/bench_serve_rebuild.sh [TICKETS] [ARTICLES] [ROUNDS]
#   DESK=/path/to/desk scripts/bench_serve_rebuild.sh 0 0 [ROUNDS]   # an existing desk (modified!)
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
articles=${2:-1000}
rounds=${3:-5}
# MESA_BIN / GEN_DESK_BIN: already built binaries (default: build this checkout in release mode).
if [ -z "${MESA_BIN:-}" ] || [ -z "${GEN_DESK_BIN:-}" ]; then
  cargo build --release --quiet --bin mesa --example gen_desk
fi
mesa=$(realpath "${MESA_BIN:-target/release/mesa}")
gen_desk=$(realpath "${GEN_DESK_BIN:-target/release/examples/gen_desk}")
work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-serve-bench.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# DESK: use (and modify) an existing desk instead of generating one.
if [ -n "${DESK:-}" ]; then
  desk=$(realpath "$DESK")
else
  desk="$work/desk"
  echo "generating $tickets tickets and $articles articles..."
  "$gen_desk" --tickets "$tickets" --articles "$articles" --out "$desk" >/dev/null
fi
"$mesa" --desk "$desk" serve --port 0 >"$work/serve.log" 2>&1 &
pid=$!
start=$(date +%s.%N)
until grep -q 'http://' "$work/serve.log"; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.2
done
echo "first build + start: $(python3 -c "import time,sys; print(f'{time.time() - float(sys.argv[1]):.1f} s')" "$start")"
url=$(grep -o 'http://[^ ]*' "$work/serve.log" | head -1)
python3 - "$url" "$desk" "$rounds" "$pid" <<'PY'
import glob, os, sys, time, urllib.request
url, desk, rounds, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def version():
    with urllib.request.urlopen(url + "__mesa/version") as r:
        return r.read().decode()
files = sorted(glob.glob(os.path.join(desk, "tickets", "**", "*.md"), recursive=True))
times = []
for i in range(rounds):
    path = files[(i * 7919) % len(files)]
    before = version()
    with open(path, "a") as f:
        f.write(f"\nNota de la ronda {i} del benchmark.\n")
    t0 = time.time()
    while version() == before:
        if time.time() - t0 > 120:
            sys.exit("no rebuild within 120 s")
        time.sleep(0.01)
    times.append(time.time() - t0)
    print(f"round {i + 1}: {os.path.relpath(path, desk)} -> site rebuilt and version changed after {times[-1]:.3f} s")
    time.sleep(0.5)
rss = 0
with open(f"/proc/{pid}/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            rss = int(line.split()[1]) // 1024
times.sort()
print(f"rebuild after one ticket change: median {times[len(times) // 2]:.3f} s, worst {times[-1]:.3f} s; serve peak RSS {rss} MiB")
PY
grep -E 'rebuilt|reconstruido' "$work/serve.log" | tail -n "$rounds" || true
