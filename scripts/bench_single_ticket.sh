#!/bin/sh
# Times single-ticket commands (`mesa comment`, `mesa show`) on a big synthetic desk in a git
# repository: each must stay under 150 ms wall because commands never scan the desk.
#
#   scripts/bench_single_ticket.sh [TICKETS] [DIR]     (default 100000, /tmp/mesa-bench-TICKETS)
#
# Builds release binaries, generates the desk once with examples/gen_desk.rs, commits it, then
# runs each command RUNS times (default 10) on different tickets and prints min / median / max.
set -eu
N=${1:-100000}
DIR=${2:-/tmp/mesa-bench-$N}
RUNS=${RUNS:-10}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mesa --example gen_desk
MESA=$(pwd)/target/release/mesa
if [ ! -d "$DIR/.git" ]; then
  rm -rf "$DIR"
  target/release/examples/gen_desk --tickets "$N" --out "$DIR"
  printf '/outbox/\n' > "$DIR/.gitignore"
  git -C "$DIR" init -q
  git -C "$DIR" add -A
  git -C "$DIR" -c user.name=bench -c user.email=bench@example.co commit -q -m "synthetic desk"
fi
IDS=$(find "$DIR/tickets" -name '*.md' | sort | awk -v n="$N" -v r="$RUNS" 'NR % int(n / r + 1) == 1' | head -n "$RUNS" | xargs -n1 basename | sed 's/\.md$//')
# One line per run: wall ms (clock before and after) and CPU ms (user + system, GNU time).
run() {
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o /tmp/mesa-bench-time "$@" >/dev/null
  t1=$(date +%s%N)
  awk -v w=$(( (t1 - t0) / 1000000 )) '{printf "%d %d\n", w, ($1 + $2) * 1000}' /tmp/mesa-bench-time
}
stats() {
  cat > /tmp/mesa-bench-runs
  w=$(sort -n /tmp/mesa-bench-runs | awk '{a[NR]=$1} END {printf "wall min %d ms, median %d ms, max %d ms", a[1], a[int((NR+1)/2)], a[NR]}')
  c=$(awk '{print $2}' /tmp/mesa-bench-runs | sort -n | awk '{a[NR]=$1} END {printf "CPU median %d ms (%d runs)", a[int((NR+1)/2)], NR}')
  echo "$w; $c"
}
echo "desk: $DIR ($(find "$DIR/tickets" -name '*.md' | wc -l) tickets)"
printf 'mesa comment: '
for id in $IDS; do
  run "$MESA" --quiet --desk "$DIR" --agent lmartinez --now 2030-01-01T08:00:00-05:00 comment "$id" --text "benchmark"
done | stats
printf 'mesa show:    '
for id in $IDS; do
  run "$MESA" --quiet --desk "$DIR" show "$id"
done | stats
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
git -C "$DIR" status --porcelain | head -3
