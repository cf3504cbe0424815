#!/usr/bin/env bash
# How long a fresh `mesa build` process takes after one ticket or one article body changed,
# with the build manifest of the previous build (<gitdir>/mesa/site.bin), on a synthetic desk
# (default 100,000 tickets and 1,000 articles) in a git repository. Builds once in full (cold:
# no manifest), then alternates "edit one ticket + mesa build" and "edit one article + mesa
# build", so a noisy shared machine disturbs both alike; reports min and median wall time, the
# CPU time (user + system) and peak RSS of each build, whether it was incremental, and the load
# average.
#
# BASELINE=/path/to/other/mesa: the same edits are built by both binaries, interleaved (A B,
# then B A in the next round), each into its own output folder and with its own manifest and
# caches (`<gitdir>/mesa` is swapped before each build, so neither sees the other's files).
# Every build runs at the same `--now` (NOW, default: when the script starts): an incremental
# build keeps the clocks of the last full one only for ten minutes of wall time, which two
# cold full builds on a loaded machine can take.
#
#   scripts/bench_build_incremental.sh [TICKETS] [ARTICLES] [ROUNDS]
#   DESK=/path/to/desk scripts/bench_build_incremental.sh 0 0 [ROUNDS]  # an existing git desk (modified!)
#   BASELINE=/tmp/mesa-base DESK=... MESA_BIN=... scripts/bench_build_incremental.sh 0 0 5
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
articles=${2:-1000}
rounds=${3:-5}
if [ -z "${MESA_BIN:-}" ] || [ -z "${GEN_DESK_BIN:-}" ]; then
  cargo build --release --quiet --bin mesa --example gen_desk
fi
mesa=$(realpath "${MESA_BIN:-target/release/mesa}")
gen_desk=$(realpath "${GEN_DESK_BIN:-target/release/examples/gen_desk}")
baseline=""
if [ -n "${BASELINE:-}" ]; then baseline=$(realpath "$BASELINE"); fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-build-bench.XXXXXX")
if [ -n "${DESK:-}" ]; then
  desk=$(realpath "$DESK")
else
  desk="$work/desk"
  echo "generating $tickets tickets and $articles articles..."
  "$gen_desk" --tickets "$tickets" --articles "$articles" --out "$desk" >/dev/null
  git -C "$desk" init -q -b main
  git -C "$desk" -c user.name=bench -c user.email=bench@example.invalid add -A
  git -C "$desk" -c user.name=bench -c user.email=bench@example.invalid commit -qm desk
fi
gitdir=$(git -C "$desk" rev-parse --absolute-git-dir)
now=${NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
# On exit the desk keeps the state of the last binary that built (the other's is dropped).
trap 'rm -rf "$work"' EXIT
echo "mesa: $mesa (this checkout is at $(git rev-parse --short HEAD 2>/dev/null || echo "?"))"
[ -n "$baseline" ] && echo "baseline: $baseline"
echo "--now $now; desk: $desk ($(find "$desk/tickets" -name '*.md' | wc -l) tickets); $(nproc) cores; $(uptime)"
python3 - "$mesa" "$baseline" "$desk" "$rounds" "$work" "$gitdir" "$now" <<'PY'
import glob, json, os, statistics, subprocess, sys, time
mesa, baseline, desk, rounds, work, gitdir, now = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
bins = {"mesa": mesa}
if baseline:
    bins["baseline"] = baseline
state = os.path.join(gitdir, "mesa")
live = None  # whose <gitdir>/mesa is in place
def use(name):
    """Puts `name`'s manifest and caches in place, the other's aside."""
    global live
    if live == name:
        return
    if live is not None and os.path.exists(state):
        os.rename(state, os.path.join(work, f"state-{live}"))
    elif live is None and os.path.exists(state):
        os.rename(state, os.path.join(work, "state-before"))
    mine = os.path.join(work, f"state-{name}")
    if os.path.exists(mine):
        os.rename(mine, state)
    live = name
def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
def build(name):
    use(name)
    out = os.path.join(work, f"site-{name}")
    t0 = time.time()
    p = subprocess.Popen([bins[name], "--desk", desk, "--now", now, "--quiet", "--format", "json", "build", "--out", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout = p.stdout.read()
    stderr = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    if status != 0:
        sys.exit(f"{name}: mesa build failed: {stderr}")
    v = json.loads(stdout)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, v["incremental"], v["pages"]
before = load()
for name in bins:
    wall, cpu, rss, inc, pages = build(name)
    print(f"{name}: cold full build: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MiB, {pages} pages (incremental: {inc})")
tickets = sorted(glob.glob(os.path.join(desk, "tickets", "**", "*.md"), recursive=True))
articles = sorted(glob.glob(os.path.join(desk, "kb", "articles", "*.md")))
runs = {(n, k): [] for n in bins for k in ("ticket", "article")}
order = list(bins)
for i in range(rounds):
    for kind, files in (("ticket", tickets), ("article", articles)):
        if not files:
            continue
        path = files[(i * 7919) % len(files)]
        with open(path, "a") as f:
            f.write(f"\nNota de la ronda {i} del benchmark.\n")
        for name in order:
            wall, cpu, rss, inc, pages = build(name)
            runs[(name, kind)].append((wall, cpu, rss, inc))
            print(f"{name} {kind} {i + 1}: {os.path.relpath(path, desk)}: {wall:.3f} s wall, {cpu:.3f} s CPU, "
                  f"{rss:.0f} MiB, {pages} pages, incremental: {inc}; load {load()}")
        order.reverse()
for (name, kind), r in runs.items():
    if r:
        walls = [w for w, *_ in r]
        cpus = [c for _, c, *_ in r]
        rss = [m for _, _, m, _ in r]
        print(f"{name}: one {kind} edited + mesa build: min {min(walls):.3f} s, median {statistics.median(walls):.3f} s wall; "
              f"CPU min {min(cpus):.3f} s, median {statistics.median(cpus):.3f} s; peak RSS max {max(rss):.0f} MiB; "
              f"{sum(1 for *_, i in r if i)}/{len(r)} incremental")
if baseline:
    for kind in ("ticket", "article"):
        a, b = runs[("mesa", kind)], runs[("baseline", kind)]
        if a and b:
            ma, mb = statistics.median(w for w, *_ in a), statistics.median(w for w, *_ in b)
            print(f"{kind}: median wall mesa/baseline = {ma / mb:.2f}")
    # Leave the desk with this mesa's manifest.
    use("mesa")
print(f"load average {before} before, {load()} after")
PY
