#!/usr/bin/env bash
# A full `mesa build` of a large desk into a fresh output folder, timed with /usr/bin/time:
# wall, user and system CPU, peak memory, and the parallel efficiency (CPU / wall / cores).
# With BASELINE=<another mesa binary>, the two are run build by build (A B A B ...), so a noisy
# shared machine disturbs both alike. Each timed build is preceded by an untimed `mesa check` of
# the same binary (the facts cache is stamped by mesa's build, so the other binary's run left
# it cold) and writes into a folder of its own: the folders are deleted only at the end, since
# creating files on ext4 soon after deleting many others is about twice as slow. Every run uses
# the same `--now` (the script's start), so the outputs of the two binaries can be compared.
# Before each timed build the script runs `sync` (untimed; SYNC=0 skips it): a 100,000-ticket
# build leaves 1.3 GB of dirty pages, which the kernel writes back 30 s later
# (vm.dirty_expire_centisecs), that is during the next run, on the same cores.
#
#   scripts/bench_build_full.sh [TICKETS] [ARTICLES] [RUNS]       # default 100000 1000 3
#   DESK=/path/to/git/desk BASELINE=/tmp/mesa-old scripts/bench_build_full.sh 0 0 3
#   MESA_BIN=... GEN_DESK_BIN=...   # already built binaries (default: build this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
articles=${2:-1000}
runs=${3:-3}
if [ -z "${MESA_BIN:-}" ] || { [ -z "${DESK:-}" ] && [ -z "${GEN_DESK_BIN:-}" ]; }; then
  cargo build --release --quiet --bin mesa --example gen_desk
fi
mesa=$(realpath "${MESA_BIN:-target/release/mesa}")
work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-build-full.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "${DESK:-}" ]; then
  desk=$(realpath "$DESK")
else
  desk="$work/desk"
  echo "generating $tickets tickets and $articles articles..."
  "$(realpath "${GEN_DESK_BIN:-target/release/examples/gen_desk}")" --tickets "$tickets" \
    --articles "$articles" --out "$desk" >/dev/null
  git -C "$desk" init -q -b main
  git -C "$desk" -c user.name=bench -c user.email=bench@example.invalid add -A
  git -C "$desk" -c user.name=bench -c user.email=bench@example.invalid commit -qm desk
fi
now=${NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
tools=("mesa=$mesa")
[ -n "${BASELINE:-}" ] && tools=("base=$(realpath "$BASELINE")" "${tools[@]}")
sync_runs=${SYNC:-1}
echo "mesa: $mesa${BASELINE:+, baseline: $(realpath "$BASELINE")}; desk: $desk; --now $now; $(nproc) cores"
echo "output in $work; sync before each run: $([ "$sync_runs" = 1 ] && echo yes || echo no) (SYNC=$sync_runs)"
: >"$work/runs"
for ((r = 1; r <= runs; r++)); do
  for t in "${tools[@]}"; do
    name=${t%%=*} bin=${t#*=}
    "$bin" --desk "$desk" --now "$now" --quiet check >/dev/null 2>&1 || true
    [ "$sync_runs" = 1 ] && sync
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" --desk "$desk" --now "$now" --quiet build \
      --out "$work/out-$name-$r" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r wall user sys kib <"$work/time"
    echo "$name $wall $user $sys $kib $load" >>"$work/runs"
    printf '%-5s run %d: %6.2f s wall, %6.2f s user, %5.2f s system, %4d MiB peak, load %s\n' \
      "$name" "$r" "$wall" "$user" "$sys" $((kib / 1024)) "$load"
  done
done
if [ -n "${BASELINE:-}" ]; then
  if diff -rq "$work/out-base-1" "$work/out-mesa-1" >"$work/diff"; then
    echo "output: identical to the baseline's"
  else
    echo "output: differs from the baseline's ($(wc -l <"$work/diff") files), e.g.:"; head -5 "$work/diff"
  fi
fi
python3 - "$work/runs" "$(nproc)" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, wall, user, sys_, kib, load = line.split()
    runs.setdefault(name, []).append((float(wall), float(user), float(sys_), int(kib), float(load)))
cores = int(sys.argv[2])
for name, r in runs.items():
    walls = sorted(x[0] for x in r)
    cpu = [x[1] + x[2] for x in r]
    eff = statistics.median((x[1] + x[2]) / x[0] / cores for x in r)
    print(f"{name}: wall min {walls[0]:.2f} s, median {statistics.median(walls):.2f} s; CPU median "
          f"{statistics.median(cpu):.2f} s (user {statistics.median(x[1] for x in r):.2f}, system "
          f"{statistics.median(x[2] for x in r):.2f}); peak {max(x[3] for x in r) / 1024:.0f} MiB; "
          f"parallel efficiency {eff:.0%} of {cores} cores; load {min(x[4] for x in r)}-{max(x[4] for x in r)}")
PY
