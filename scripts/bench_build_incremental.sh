#!/usr/bin/env bash
# How long a fresh `mesa build` process takes after one ticket or one article body changed,
# with the build manifest of the previous build (<gitdir>/mesa/site.bin), on a synthetic desk
# (default 100,000 tickets and 1,000 articles) in a git repository. Builds once in full (cold:
# no manifest), then alternates "edit one ticket + mesa build" and "edit one article + mesa
# build", so a noisy shared machine disturbs both alike; reports min and median wall time, the
# CPU time of each build (user + system), whether it was incremental, and the load average.
#
#   scripts/bench_build_incremental.sh [TICKETS] [ARTICLES] [ROUNDS]
#   DESK=/path/to/desk scripts/bench_build_incremental.sh 0 0 [ROUNDS]  # an existing git desk (modified!)
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
work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-build-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
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
python3 - "$mesa" "$desk" "$rounds" "$work/site" <<'PY'
import glob, json, os, resource, statistics, subprocess, sys, time
mesa, desk, rounds, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
def build():
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    p = subprocess.run([mesa, "--desk", desk, "--quiet", "--format", "json", "build", "--out", out],
                       capture_output=True, text=True)
    wall = time.time() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"mesa build failed: {p.stderr}")
    v = json.loads(p.stdout)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    return wall, cpu, v["incremental"], v["pages"]
before = load()
wall, cpu, inc, pages = build()
print(f"cold full build: {wall:.2f} s wall, {cpu:.2f} s CPU, {pages} pages (incremental: {inc})")
tickets = sorted(glob.glob(os.path.join(desk, "tickets", "**", "*.md"), recursive=True))
articles = sorted(glob.glob(os.path.join(desk, "kb", "articles", "*.md")))
runs = {"ticket": [], "article": []}
for i in range(rounds):
    for kind, files in (("ticket", tickets), ("article", articles)):
        if not files:
            continue
        path = files[(i * 7919) % len(files)]
        with open(path, "a") as f:
            f.write(f"\nNota de la ronda {i} del benchmark.\n")
        wall, cpu, inc, pages = build()
        runs[kind].append((wall, cpu, inc))
        print(f"{kind} {i + 1}: {os.path.relpath(path, desk)}: {wall:.3f} s wall, {cpu:.3f} s CPU, "
              f"{pages} pages, incremental: {inc}")
for kind, r in runs.items():
    if r:
        walls = [w for w, _, _ in r]
        cpus = [c for _, c, _ in r]
        print(f"one {kind} edited + mesa build: min {min(walls):.3f} s, median {statistics.median(walls):.3f} s wall; "
              f"CPU min {min(cpus):.3f} s, median {statistics.median(cpus):.3f} s; "
              f"{sum(1 for *_, i in r if i)}/{len(r)} incremental")
print(f"load average {before} before, {load()} after")
PY
