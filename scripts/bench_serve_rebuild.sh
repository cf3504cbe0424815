#!/usr/bin/env bash
# How long `mesa serve` takes to have the site rebuilt after one ticket or one article body
# changes, on a synthetic desk (default 100,000 tickets and 1,000 articles), measured from the
# write to the moment the server's /__mesa/version changes (what the open page's reload script
# waits for). The two kinds of edit are interleaved (ticket, article, ticket, article...), so a
# noisy shared machine disturbs both alike; each reports min and median, the server's CPU time
# per rebuild (user + system, from /proc), and the load average before and after.
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
import glob, os, statistics, sys, time, urllib.request
url, desk, rounds, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tick = os.sysconf("SC_CLK_TCK")
def version():
    with urllib.request.urlopen(url + "__mesa/version") as r:
        return r.read().decode()
def cpu():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
tickets = sorted(glob.glob(os.path.join(desk, "tickets", "**", "*.md"), recursive=True))
articles = sorted(glob.glob(os.path.join(desk, "kb", "articles", "*.md")))
runs = {"ticket": [], "article": []}
before_load = load()
for i in range(rounds):
    for kind, files in (("ticket", tickets), ("article", articles)):
        if not files:
            continue
        path = files[(i * 7919) % len(files)]
        before, c0 = version(), cpu()
        with open(path, "a") as f:
            f.write(f"\nNota de la ronda {i} del benchmark.\n")
        t0 = time.time()
        while version() == before:
            if time.time() - t0 > 120:
                sys.exit("no rebuild within 120 s")
            time.sleep(0.005)
        wall = time.time() - t0
        time.sleep(0.3)  # the server is idle again: its CPU time is the rebuild's
        runs[kind].append((wall, cpu() - c0))
        print(f"{kind} {i + 1}: {os.path.relpath(path, desk)} -> reloadable after {wall:.3f} s, "
              f"server CPU {runs[kind][-1][1]:.2f} s")
        time.sleep(0.5)
rss = 0
with open(f"/proc/{pid}/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            rss = int(line.split()[1]) // 1024
for kind, r in runs.items():
    if r:
        walls = [w for w, _ in r]
        print(f"one {kind} edited: min {min(walls):.3f} s, median {statistics.median(walls):.3f} s, "
              f"server CPU median {statistics.median(c for _, c in r):.2f} s ({len(r)} runs)")
print(f"serve peak RSS {rss} MiB; load average {before_load} before, {load()} after")
PY
grep -E 'rebuilt|reconstruido' "$work/serve.log" | tail -n "$((2 * rounds))" || true
