#!/bin/sh
# Times clock arithmetic against how far `--now` is from the tickets' events: `mesa report`
# and `mesa list --open` on the sample desk (35 tickets, events in 2026) with --now today,
# in 2100 and at the end of the supported range (2199-12-31), and shows that a year past the
# range (5000) is refused at once. Working time is added a whole year at a time, so the far
# dates must cost about what today does.
#
#   scripts/bench_far_now.sh            (RUNS=10 runs per case; prints min / median wall ms)
set -eu
RUNS=${RUNS:-10}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mesa
MESA=$(pwd)/target/release/mesa
DESK=$(mktemp -d)
trap 'rm -rf "$DESK"' EXIT
cp -r desk.yaml kb theme tickets "$DESK"/
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
time_ms() {
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
for cmd in report "list --open"; do
  for now in 2026-12-01T09:00:00-05:00 2100-06-01T09:00:00-05:00 2199-12-31T09:00:00-05:00; do
    i=0
    : > /tmp/mesa-bench-far
    while [ $i -lt "$RUNS" ]; do
      # shellcheck disable=SC2086
      time_ms "$MESA" --desk "$DESK" --now "$now" $cmd >> /tmp/mesa-bench-far
      i=$((i + 1))
    done
    sort -n /tmp/mesa-bench-far | awk -v c="$cmd" -v n="$now" \
      '{a[NR]=$1} END {printf "mesa %-12s --now %s: min %d ms, median %d ms (%d runs)\n", c, n, a[1], a[int((NR+1)/2)], NR}'
  done
done
printf 'mesa report --now 5000-01-01: '
if "$MESA" --desk "$DESK" --now 5000-01-01T00:00:00Z report >/dev/null 2>&1; then
  echo "accepted (unexpected)"; exit 1
else
  echo "refused (exit $?), $(time_ms "$MESA" --desk "$DESK" --now 5000-01-01T00:00:00Z report) ms"
fi
