#!/usr/bin/env bash
# How long `mesa serve` takes to have the site rebuilt after one ticket or one article body
# changes, on a synthetic desk (default 100,000 tickets and 1,000 articles), measured from the
# write to the moment the server's /__mesa/version changes (what the open page's reload script
# waits for). The two kinds of edit are interleaved (ticket, article, ticket, article...), so a
# noisy shared machine disturbs both alike; each reports min and median, the server's CPU time
# per rebuild (user + system, from /proc), its peak RSS, and the load average before and after.
#
# BASELINE=/path/to/other/mesa: a second server (that binary) runs on a hard-linked copy of the
# desk (same files, its own _site/), and every edit is made once through each desk's path, the
# two servers taking turns (A B, then B A): a change made through one path is reported by
# inotify to that desk's watcher only, so each server rebuilds for its own edits alone (the
# script checks that the other's version did not move).
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
bpid=""
cleanup() {
  for p in $pid $bpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
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
baseline=""
if [ -n "${BASELINE:-}" ]; then baseline=$(realpath "$BASELINE"); fi
echo "mesa: $mesa (this checkout is at $(git rev-parse --short HEAD 2>/dev/null || echo "?"))"
[ -n "$baseline" ] && echo "baseline: $baseline"
echo "desk: $desk; $(nproc) cores; $(uptime)"
# start BIN DESK LOG: starts a server, waits until it listens, prints its pid.
start() {
  "$1" --desk "$2" serve --port 0 >"$3" 2>&1 &
  local p=$!
  local t0
  t0=$(date +%s.%N)
  until grep -q 'http://' "$3"; do
    kill -0 "$p" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.2
  done
  echo "$(basename "$1"): first build + start: $(python3 -c "import time,sys; print(f'{time.time() - float(sys.argv[1]):.1f} s')" "$t0")" >&2
  echo "$p"
}
pid=$(start "$mesa" "$desk" "$work/serve.log")
url=$(grep -o 'http://[^ ]*' "$work/serve.log" | head -1)
burl=""
bdesk=""
if [ -n "$baseline" ]; then
  bdesk="$work/desk-base"
  mkdir "$bdesk"
  for e in "$desk"/* "$desk"/.[!.]*; do
    if [ -e "$e" ] && [ "$(basename "$e")" != "_site" ]; then cp -al "$e" "$bdesk/"; fi
  done
  bpid=$(start "$baseline" "$bdesk" "$work/serve-base.log")
  burl=$(grep -o 'http://[^ ]*' "$work/serve-base.log" | head -1)
fi
python3 - "$rounds" "mesa" "$url" "$desk" "$pid" "baseline" "$burl" "$bdesk" "$bpid" <<'PY'
import glob, os, statistics, sys, time, urllib.request
rounds = int(sys.argv[1])
servers = []
for k in range(2, len(sys.argv), 4):
    name, url, desk, pid = sys.argv[k:k + 4]
    if url:
        servers.append({"name": name, "url": url, "desk": desk, "pid": int(pid)})
tick = os.sysconf("SC_CLK_TCK")
def version(s):
    with urllib.request.urlopen(s["url"] + "__mesa/version") as r:
        return r.read().decode()
def cpu(s):
    with open(f"/proc/{s['pid']}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
first = servers[0]["desk"]
tickets = sorted(os.path.relpath(p, first) for p in glob.glob(os.path.join(first, "tickets", "**", "*.md"), recursive=True))
articles = sorted(os.path.relpath(p, first) for p in glob.glob(os.path.join(first, "kb", "articles", "*.md")))
runs = {(s["name"], k): [] for s in servers for k in ("ticket", "article")}
# A server rebuilds in full when a change comes more than ten minutes after its last full
# build (so clocks never lag further): each server gets one unmeasured edit first, so the
# measured ones patch (on a loaded machine, where first builds take minutes, this one is a
# full rebuild).
def edit_and_wait(s, path, note, limit, poll):
    """Appends `note` to `path` and waits until server `s` shows a new version: the seconds."""
    before = version(s)
    with open(path, "a") as f:
        f.write(note)
    t0 = time.time()
    while version(s) == before:
        if time.time() - t0 > limit:
            sys.exit(f"no rebuild within {limit} s")
        time.sleep(poll)
    return time.time() - t0


for s in servers:
    path = os.path.join(s["desk"], tickets[-1])
    took = edit_and_wait(s, path, f"\nNota previa del benchmark ({s['name']}).\n", 3600, 0.05)
    print(f"{s['name']}: warm-up edit rebuilt after {took:.1f} s")
before_load = load()
order = list(servers)
for i in range(rounds):
    for kind, files in (("ticket", tickets), ("article", articles)):
        if not files:
            continue
        rel = files[(i * 7919) % len(files)]
        for s in order:
            others = [(o, version(o)) for o in servers if o is not s]
            path = os.path.join(s["desk"], rel)
            c0 = cpu(s)
            note = f"\nNota de la ronda {i} del benchmark ({s['name']}).\n"
            wall = edit_and_wait(s, path, note, 120, 0.005)
            time.sleep(0.3)  # the server is idle again: its CPU time is the rebuild's
            runs[(s["name"], kind)].append((wall, cpu(s) - c0))
            moved = [o["name"] for o, v in others if version(o) != v]
            print(f"{s['name']} {kind} {i + 1}: {rel} -> reloadable after {wall:.3f} s, "
                  f"server CPU {runs[(s['name'], kind)][-1][1]:.2f} s; load {load()}"
                  + (f" (ALSO REBUILT: {moved})" if moved else ""))
            time.sleep(0.5)
        order.reverse()
for s in servers:
    with open(f"/proc/{s['pid']}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                s["rss"] = int(line.split()[1]) // 1024
for (name, kind), r in runs.items():
    if r:
        walls = [w for w, _ in r]
        print(f"{name}: one {kind} edited: min {min(walls):.3f} s, median {statistics.median(walls):.3f} s, "
              f"server CPU median {statistics.median(c for _, c in r):.2f} s ({len(r)} runs)")
for s in servers:
    print(f"{s['name']}: serve peak RSS {s.get('rss', 0)} MiB")
print(f"load average {before_load} before, {load()} after")
PY
grep -E 'rebuilt|reconstruido' "$work/serve.log" | tail -n "$((2 * rounds))" || true
