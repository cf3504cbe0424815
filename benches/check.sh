#!/usr/bin/env bash
# Benchmark of `mesa check`, `mesa report` and `mesa list` on a large synthetic desk, cold
# (no facts cache), warm (unchanged desk) and after one ticket edit, runs interleaved.
#
#   benches/check.sh [TICKETS] [RUNS]        (defaults: 100000 tickets, 5 runs)
#
# Builds the release binary and the generator, generates the desk once (kept in
# $BENCH_DIR, default /tmp/mesa-bench-TICKETS, committed to git, reused while complete), warms
# the page cache, then RUNS rounds; each round runs, for each command in turn, a cold run
# (the cache in .git/mesa/ deleted), a warm run, and a run after appending a line to one
# ticket's conversation (a different ticket each round). Prints every run's wall, user and
# system time, then per command and mode the best and median wall time and the median CPU
# time, with the load average before and after. Targets at 100,000 tickets (issue 16): warm
# under 0.3 s, one edit under 0.4 s, cold under 1.5 s. Needs GNU time (Debian package `time`).
#
# MESA_BASE=/path/to/other/mesa compares another build (e.g. main's) in the same run: each
# command's cold, warm and edit runs are made by one binary then the other, round by round
# (the two share the cache file, so each starts its block from a deleted cache).
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
runs=${2:-5}
dir=${BENCH_DIR:-/tmp/mesa-bench-$tickets}
target=${CARGO_TARGET_DIR:-target}
mesa=${MESA_BIN:-"$(pwd)/$target/release/mesa"}   # MESA_BIN: a copy, safe from rebuilds

# MESA_BIN given and the desk already generated: nothing to build (e.g. while cargo is busy).
if [ -z "${MESA_BIN:-}" ] || [ ! -f "$dir/.complete" ]; then
  cargo build --release --quiet --bin mesa --example gen_desk
fi
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  "$target/release/examples/gen_desk" --tickets "$tickets" --articles 1000 --out "$dir"
  (cd "$dir" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@example.invalid commit -qm desk)
  echo ".complete" > "$dir/.git/info/exclude"
  touch "$dir/.complete"
fi
cache=$(cd "$dir" && git rev-parse --absolute-git-dir)/mesa
size=$(du -sm "$dir/tickets" | cut -f1)
export MESA_NOW=2026-11-30T10:00:00-05:00
echo "desk: $dir ($tickets tickets, ${size} MB on disk), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "to reproduce: MESA_BASE=${MESA_BASE:-} MESA_BIN=$mesa BENCH_DIR=$dir benches/check.sh $tickets $runs ($(git rev-parse --short HEAD 2>/dev/null))"
"$mesa" --desk "$dir" check --quiet >/dev/null   # page cache warm-up, and must pass
mapfile -t victims < <(cd "$dir" && git ls-files tickets | awk 'NR % 997 == 1')

declare -A walls cpus
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
bins=(new)
declare -A exe=([new]="$mesa")
if [ -n "${MESA_BASE:-}" ]; then bins=(base new); exe[base]=$MESA_BASE; fi
measure() { # KEY ARGS...
  local key=$1; shift
  local out wall user sys
  # GNU time writes to its own file: the command's stderr is discarded without losing it.
  /usr/bin/time -o "$timing" -f '%e %U %S' "$bin" --desk "$dir" "$@" >/dev/null 2>&1
  read -r wall user sys < "$timing"
  printf '%-19s %6.3f s wall  %5.2f s user  %5.2f s system\n' "$key" "$wall" "$user" "$sys"
  walls[$key]+="$wall "
  cpus[$key]+="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') "
}
for i in $(seq 1 "$runs"); do
  for cmd in check report list; do
    for b in "${bins[@]}"; do
      bin=${exe[$b]}
      tag=$cmd; [ "${#bins[@]}" -gt 1 ] && tag="$b $cmd"
      rm -rf "$cache"
      measure "$tag cold" "$cmd"
      measure "$tag warm" "$cmd"
      victim="$dir/${victims[$(( (i * 7 + ${#cmd} + ${#b}) % ${#victims[@]} ))]}"
      printf 'Nota del benchmark, ronda %s.\n\n' "$i" >>"$victim"
      measure "$tag edit" "$cmd"
    done
  done
done
(cd "$dir" && git checkout -q -- tickets)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for cmd in check report list; do
  for b in "${bins[@]}"; do
    for mode in cold warm edit; do
      key="$cmd $mode"; [ "${#bins[@]}" -gt 1 ] && key="$b $cmd $mode"
      w=($(tr ' ' '\n' <<<"${walls[$key]}" | grep . | sort -n))
      c=($(tr ' ' '\n' <<<"${cpus[$key]}" | grep . | sort -n))
      printf '%-19s best %.3f s, median %.3f s wall; median CPU %.2f s (%d runs)\n' \
        "$key" "${w[0]}" "${w[$(( ${#w[@]} / 2 ))]}" "${c[$(( ${#c[@]} / 2 ))]}" "${#w[@]}"
    done
  done
done
