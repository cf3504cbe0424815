#!/usr/bin/env bash
# Benchmark of `mesa check` on a large synthetic desk.
#
#   benches/check.sh [TICKETS] [RUNS]        (defaults: 100000 tickets, 5 runs)
#
# Builds the release binary and the generator, generates the desk once (kept in
# $BENCH_DIR, default /tmp/mesa-bench-TICKETS, reused while it is complete), runs `mesa check`
# once to warm the page cache, then RUNS times under /usr/bin/time -v, and prints wall time,
# CPU time and peak memory of each run, then the best and the median. Target for 100,000
# tickets on a 2-core machine: under 2 s wall and under 1 GiB peak memory. Needs GNU time
# (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
runs=${2:-5}
dir=${BENCH_DIR:-/tmp/mesa-bench-$tickets}
target=${CARGO_TARGET_DIR:-target}

cargo build --release --quiet --bin mesa --example gen_desk
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  "$target/release/examples/gen_desk" --tickets "$tickets" --articles 1000 --out "$dir"
  touch "$dir/.complete"
fi
size=$(du -sm "$dir/tickets" | cut -f1)
echo "desk: $dir ($tickets tickets, ${size} MB on disk), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

"$target/release/mesa" --desk "$dir" check --quiet >/dev/null   # warm-up, and must pass
walls=()
for i in $(seq 1 "$runs"); do
  out=$( { /usr/bin/time -v "$target/release/mesa" --desk "$dir" check --quiet >/dev/null; } 2>&1 )
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' <<<"$out" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  user=$(sed -n 's/.*User time (seconds): //p' <<<"$out")
  sys=$(sed -n 's/.*System time (seconds): //p' <<<"$out")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' <<<"$out")
  printf 'run %d: %6.2f s wall  %5.2f s user  %5.2f s system  %6.1f MB peak\n' "$i" "$wall" "$user" "$sys" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  walls+=("$wall")
done
sorted=($(printf '%s\n' "${walls[@]}" | sort -n))
printf 'best %.2f s, median %.2f s wall over %d runs\n' "${sorted[0]}" "${sorted[$(( ${#sorted[@]} / 2 ))]}" "$runs"
