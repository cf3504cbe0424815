#!/bin/sh
# Times single-ticket commands (`mesa comment`, `mesa assign`, `mesa show`) on a big synthetic
# desk in a git repository, interleaved run by run with two floors measured on the same
# repository in the same run:
#   - `git commit -qam` of a one-line change to a tracked file (what a person's commit costs:
#     git reads and rewrites the whole index and checks every file's stat data);
#   - plumbing: `git commit-tree` of HEAD's tree + `git update-ref` (a commit object and a ref
#     move, no index, no tree: the least any commit costs through the git binary).
# Target (issue 16): a single-ticket command under 60 ms median at 100,000 tickets.
#
#   scripts/bench_single_ticket.sh [TICKETS] [DIR]     (default 100000, /tmp/mesa-bench-TICKETS)
#
# Builds release binaries, generates the desk once with examples/gen_desk.rs (1,000 articles),
# commits it, then runs RUNS rounds (default 15), each round: comment, show, assign, git
# commit, plumbing commit, on a different ticket each round. Prints per command wall min /
# median / max and CPU (user + system) median, and the load average before and after.
# BASELINE=/path/to/other/mesa runs the same three commands with that binary in each round,
# on a ticket of its own (A B A B under the same load), for a before/after comparison. mesa's
# caches under .git/mesa/ are stamped with the binary that wrote them, so the first command
# after the other binary ran rebuilds them (the knowledge base's: about 45 ms of CPU at 1,000
# articles); each binary's turn therefore starts with an unmeasured `show`, and the measured
# commands see that binary's own warm caches, as on an agent's laptop with one mesa.
set -eu
N=${1:-100000}
DIR=${2:-/tmp/mesa-bench-$N}
RUNS=${RUNS:-15}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mesa --example gen_desk
MESA=$(pwd)/target/release/mesa
if [ ! -d "$DIR/.git" ]; then
  rm -rf "$DIR"
  target/release/examples/gen_desk --tickets "$N" --articles 1000 --out "$DIR"
  printf '/outbox/\n/rejected/\n/Maildir/\n' > "$DIR/.gitignore"
  printf 'floor\n' > "$DIR/floor.txt"
  git -C "$DIR" init -q
  git -C "$DIR" add -A
  git -C "$DIR" -c user.name=bench -c user.email=bench@example.co commit -q -m "synthetic desk"
fi
G="git -C $DIR -c user.name=bench -c user.email=bench@example.co"
# Tickets still being worked (a comment and an assignment are allowed), spread over the desk.
PICK=$RUNS
[ -n "${BASELINE:-}" ] && PICK=$((RUNS * 2))
IDS=$(grep -rl --include='*.md' '^status: in_progress' "$DIR/tickets" | sort \
  | awk -v r="$PICK" '{a[NR]=$0} END {for (i = 1; i <= r; i++) print a[int((i - 0.5) * NR / r) + 1]}' \
  | xargs -n1 basename | sed 's/\.md$//')
OUT=$(mktemp -d)
# One line per run in $OUT/NAME: wall ms (clock before and after) and CPU ms (GNU time).
run() {
  name=$1
  shift
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$OUT/time" "$@" >/dev/null
  t1=$(date +%s%N)
  awk -v w=$(( (t1 - t0) / 1000000 )) '{printf "%d %d\n", w, ($1 + $2) * 1000}' "$OUT/time" >> "$OUT/$name"
}
stats() {
  w=$(sort -n "$OUT/$1" | awk '{a[NR]=$1} END {printf "wall min %4d  median %4d  max %4d ms", a[1], a[int((NR+1)/2)], a[NR]}')
  c=$(awk '{print $2}' "$OUT/$1" | sort -n | awk '{a[NR]=$1} END {printf "CPU median %4d ms (%d runs)", a[int((NR+1)/2)], NR}')
  printf '%-22s %s; %s\n' "$1" "$w" "$c"
}
echo "desk: $DIR ($(find "$DIR/tickets" -name '*.md' | wc -l) tickets, index $(du -k "$DIR/.git/index" | cut -f1) KiB)"
echo "mesa: $MESA (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ', with uncommitted changes')); baseline: ${BASELINE:-none}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
i=0
for id in $IDS; do
  i=$((i + 1))
  now="2030-01-01T08:$(printf %02d $((i % 60))):00-05:00"
  if [ -n "${BASELINE:-}" ] && [ $((i % 2)) -eq 1 ]; then
    "$BASELINE" --quiet --desk "$DIR" show "$id" >/dev/null
    run "baseline comment" "$BASELINE" --quiet --desk "$DIR" --agent lmartinez --now "$now" comment "$id" --text "benchmark $i"
    run "baseline show" "$BASELINE" --quiet --desk "$DIR" show "$id"
    run "baseline assign" "$BASELINE" --quiet --desk "$DIR" --agent lmartinez --now "$now" assign "$id" --to dcastro
    continue
  fi
  [ -n "${BASELINE:-}" ] && "$MESA" --quiet --desk "$DIR" show "$id" >/dev/null
  run "mesa comment" "$MESA" --quiet --desk "$DIR" --agent lmartinez --now "$now" comment "$id" --text "benchmark $i"
  run "mesa show" "$MESA" --quiet --desk "$DIR" show "$id"
  run "mesa assign" "$MESA" --quiet --desk "$DIR" --agent lmartinez --now "$now" assign "$id" --to dcastro
  echo "floor $i" >> "$DIR/floor.txt"
  run "git commit -am" $G commit -qam "floor $i"
  run "git commit-tree+ref" sh -c "$G update-ref HEAD \$($G commit-tree HEAD^{tree} -p HEAD -m plumbing)"
done
for c in "mesa comment" "mesa assign" "mesa show" "baseline comment" "baseline assign" \
  "baseline show" "git commit -am" "git commit-tree+ref"; do
  [ -s "$OUT/$c" ] && stats "$c"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
status=$(git -C "$DIR" status --porcelain | head -3)
[ -z "$status" ] && echo "git status: clean" || echo "git status NOT clean: $status"
rm -rf "$OUT"
