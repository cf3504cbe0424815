#!/usr/bin/env bash
# The figures of docs/scale.md on a big committed desk (a million tickets from
# `gen_desk --tickets 1000000 --articles 1000`, `git add -A`, `git commit`, `git gc`): each step
# runs under /usr/bin/time -v at idle priority (nice 19, ionice idle: the machine is shared) and
# prints user + system CPU time, peak RSS, wall time and the load average before and after.
#
#   DESK=/tmp/d1m scripts/bench_million.sh STEP...
#
# Steps (in the order given; the desk is modified by `edit`, `single` and `build-incr`):
#   cold        check, report, list --open with the facts caches deleted (and the page cache
#               dropped first when /proc/sys/vm/drop_caches is writable: DROP=0 to skip)
#   warm        the same three, unchanged desk, caches from the previous run (RUNS times)
#   edit        append a line to one ticket, then check, report, list --open
#   single      mesa show, comment, assign on one ticket (RUNS times each, interleaved)
#   build       a full `mesa build` into $OUT (manifest deleted first)
#   build-incr  one ticket edited + mesa build, then one article edited + mesa build
#   git         index size and version, `git status` with a warm index (RUNS times)
#   clone       `git clone --no-local` with checkout into $CLONE, then `git status` there
#               (twice: the first refreshes the new index), then deletes the clone
#
# MESA_BIN (default target/release/mesa), MESA_NOW (default 2026-11-30T10:00:00-05:00),
# OUT (default /tmp/mesa-million-site), CLONE (default /tmp/mesa-million-clone), RUNS (3),
# NICE=0 to run at normal priority (the wall clock of a long build under others' load).
set -euo pipefail
cd "$(dirname "$0")/.."
desk=$(realpath "${DESK:?DESK=/path/to/a committed desk}")
mesa=$(realpath "${MESA_BIN:-target/release/mesa}")
out=${OUT:-/tmp/mesa-million-site}
clone=${CLONE:-/tmp/mesa-million-clone}
runs=${RUNS:-3}
export MESA_NOW=${MESA_NOW:-2026-11-30T10:00:00-05:00}
export MESA_AGENT=${MESA_AGENT:-}
gitdir=$(git -C "$desk" rev-parse --absolute-git-dir)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }

# measure LABEL CMD...: one run at idle priority, one line of figures.
measure() {
  local label=$1 before
  shift
  before=$(load)
  local idle=(nice -n 19 ionice -c3)
  [ "${NICE:-1}" = 0 ] && idle=()
  if ! "${idle[@]}" /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$log.err"; then
    echo "$label: FAILED"; tail -5 "$log.err"; tail -3 "$log"; rm -f "$log.err"; return 1
  fi
  # Warnings (e.g. a build manifest not written) are part of the figures.
  grep -i -E 'warning|aviso' "$log.err" | head -5 || true
  rm -f "$log.err"
  awk -v label="$label" -v before="$before" -v after="$(load)" -F': ' '
    /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
    /Elapsed \(wall clock\)/ {w=$2}
    END { n=split(w, p, ":"); secs = (n==3) ? p[1]*3600+p[2]*60+p[3] : p[1]*60+p[2];
          printf "%-34s %8.2f s CPU (%.2f user + %.2f sys)  %7.0f MiB  %8.2f s wall  load %s -> %s\n",
                 label, u+s, u, s, m/1024, secs, before, after }' "$log"
}

mesa() { measure "$1" "$mesa" --desk "$desk" --quiet "${@:2}"; }

pick_ticket() { # a closed ticket in the middle of the desk, and the newest one (open)
  git -C "$desk" ls-files 'tickets/*.md' | sed -n "${1}p"
}

echo "mesa $("$mesa" --version 2>/dev/null || true) ($mesa), desk $desk ($(git -C "$desk" rev-parse --short HEAD)), $(date -u +%FT%TZ), nproc $(nproc)"
for step in "$@"; do
  case $step in
  cold)
    for cmd in check report list; do
      rm -f "$gitdir/mesa/check.bin" "$gitdir/mesa/report.bin" "$gitdir/mesa/list.bin"
      dropped="page cache kept"
      if [ "${DROP:-1}" = 1 ] && sync && (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
        dropped="page cache dropped"
      fi
      args=("$cmd"); [ "$cmd" = list ] && args=(list --open)
      mesa "cold ${args[*]} ($dropped)" "${args[@]}" || true
      mesa "  then warm ${args[*]}" "${args[@]}" || true
    done
    ls -l "$gitdir/mesa/"
    ;;
  warm)
    for i in $(seq "$runs"); do
      mesa "warm check $i" check || true
      mesa "warm report $i" report || true
      mesa "warm list --open $i" list --open || true
    done
    ;;
  edit)
    t=$(pick_ticket 500000)
    echo "editing $t"
    printf '\nNota agregada por scripts/bench_million.sh.\n' >>"$desk/$t"
    mesa "check, one ticket edited" check || true
    mesa "report, one ticket edited" report || true
    mesa "list --open, one ticket edited" list --open || true
    git -C "$desk" checkout -q -- "$t"
    ;;
  single)
    t=$(pick_ticket '$')
    id=$(basename "$t" .md)
    read -r a1 a2 < <(sed -n '/^agents:/,/^[a-z]/s/^  - code: *//p' "$desk/desk.yaml" | head -2 | xargs)
    echo "ticket $id ($t), agents $a1 $a2"
    for i in $(seq "$runs"); do
      mesa "show $id" show "$id" || true
      MESA_AGENT=$a1 mesa "comment $id" comment --text "Nota $i del benchmark" "$id" || true
      to=$a2; [ $((i % 2)) = 0 ] && to=$a1
      MESA_AGENT=$a1 mesa "assign $id --to $to" assign --to "$to" "$id" || true
    done
    measure "git commit -am (floor)" sh -c "printf 'x\n' >>'$desk/$t' && git -C '$desk' commit -qam floor" || true
    ;;
  build)
    rm -rf "$out" "$gitdir/mesa/site.bin"
    mesa "full build" build --out "$out" || true
    echo "site: $(du -sh "$out" | cut -f1), $(find "$out" -type f | wc -l) files; manifest $(stat -c %s "$gitdir/mesa/site.bin" 2>/dev/null || echo none) bytes"
    ;;
  build-incr)
    t=$(pick_ticket 500001)
    printf '\nNota agregada por scripts/bench_million.sh.\n' >>"$desk/$t"
    mesa "build, one ticket edited ($t)" build --out "$out" || true
    a=$(git -C "$desk" ls-files 'kb/articles/*.md' | sed -n 500p)
    printf '\nNota agregada por scripts/bench_million.sh.\n' >>"$desk/$a"
    mesa "build, one article edited ($a)" build --out "$out" || true
    git -C "$desk" checkout -q -- "$t" "$a"
    mesa "build, both edits undone" build --out "$out" || true
    ;;
  git)
    echo "index: $(stat -c %s "$gitdir/index") bytes, version $(od -An -tu1 -j7 -N1 "$gitdir/index" | tr -d ' '), $(git -C "$desk" ls-files | wc -l) entries; pack: $(du -sh "$gitdir/objects/pack" | cut -f1)"
    for i in $(seq "$runs"); do
      measure "git status --porcelain $i" git -C "$desk" status --porcelain || true
    done
    ;;
  clone)
    rm -rf "$clone"
    measure "git clone --no-local (checkout)" git clone -q --no-local "$desk" "$clone" || true
    echo "clone: $(du -sh "$clone/.git" | cut -f1) .git, $(du -sh --exclude=.git "$clone" | cut -f1) work tree, index $(stat -c %s "$clone/.git/index") bytes"
    measure "git status in the clone (1st)" git -C "$clone" status --porcelain || true
    measure "git status in the clone (2nd)" git -C "$clone" status --porcelain || true
    rm -rf "$clone"
    ;;
  *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
echo "done $(date -u +%FT%TZ), load $(load)"
