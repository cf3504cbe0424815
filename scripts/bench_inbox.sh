#!/bin/sh
# Times `mesa inbox import` of 1,000 customer emails (500 replies to existing cases, 500 new
# cases) into a big synthetic desk in git, one commit per message. Not a test: prints numbers.
#
#   scripts/bench_inbox.sh [TICKETS] [DIR]     (default 100000, /tmp/mesa-bench-inbox-TICKETS)
#
# Builds release binaries, generates the desk once with examples/gen_desk.rs and commits it,
# writes the Maildir once, then RUNS times (default 3): resets the desk to that commit, imports,
# and checks that every message made exactly one commit. Between runs it times FLOOR (default
# 100) plain `git commit`s of one file on the same repo (git rewrites its index each time), the
# floor a commit per message is compared with; the machine is shared, so both are interleaved.
# BASELINE=/path/to/other/mesa also imports with that binary in each run, just before this
# build's import (A B A B), for a before/after comparison under the same load.
set -eu
N=${1:-100000}
DIR=${2:-/tmp/mesa-bench-inbox-$N}
RUNS=${RUNS:-3}
MSGS=${MSGS:-1000}
FLOOR=${FLOOR:-100}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mesa --example gen_desk
MESA=$(pwd)/target/release/mesa
if [ ! -d "$DIR/.git" ]; then
  rm -rf "$DIR"
  target/release/examples/gen_desk --tickets "$N" --out "$DIR"
  printf '/outbox/\n/rejected/\n/Maildir/\n' > "$DIR/.gitignore"
  printf 'floor\n' > "$DIR/floor.txt"
  git -C "$DIR" init -q
  git -C "$DIR" add -A
  git -C "$DIR" -c user.name=bench -c user.email=bench@example.co commit -q -m "synthetic desk"
fi
BASE=$(git -C "$DIR" rev-parse HEAD)
if [ ! -d "$DIR/Maildir/new" ]; then
  python3 - "$DIR" "$MSGS" <<'PY'
import os, sys, random
desk, total = sys.argv[1], int(sys.argv[2])
random.seed(7)
ids = []
for root, _, files in os.walk(os.path.join(desk, "tickets")):
    ids += [f[:-3] for f in files if f.endswith(".md")]
ids.sort()
new = os.path.join(desk, "Maildir", "new")
for d in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(desk, "Maildir", d), exist_ok=True)
contacts = ["sistemas@santahelena.example.co", "jpardo@ipsandina.example.co",
            "lorozco@cmcaribe.example.co", "hquintero@hsanrafael.example.co"]
for n in range(total):
    minute = n % 60
    hour = 8 + (n // 60) % 10
    date = "Mon, 14 Dec 2026 %02d:%02d:%02d -0500" % (hour, minute, n % 60)
    sender = contacts[n % 4]
    if n % 2 == 0:
        case = random.choice(ids)
        head = ("Subject: Re: [Caso %s] su caso\nIn-Reply-To: <%s.1@sgm.com.co>\n"
                "References: <%s.1@sgm.com.co>\n" % (case, case, case))
        body = "Gracias, seguimos revisando el caso %s (mensaje %d).\n\nEl lun, 14 dic 2026, Mesa escribió:\n> texto anterior\n" % (case, n)
    else:
        head = "Subject: Solicitud de soporte %d\n" % n
        body = "Buenos días, necesitamos ayuda con el módulo %d.\n" % n
    msg = ("Received: from mx by mail.sgm.com.co; %s\nFrom: Cliente <%s>\nTo: soporte@sgm.com.co\n"
           "Date: %s\nMessage-ID: <bench%d@cliente.example.co>\n%sMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=UTF-8\n\n%s" % (date, sender, date, n, head, body))
    with open(os.path.join(new, "17650%05d.M%dP1.bench" % (n, n)), "w") as f:
        f.write(msg.replace("\n", "\r\n"))
PY
fi
echo "desk: $DIR ($(find "$DIR/tickets" -name '*.md' | wc -l) tickets), $(ls "$DIR/Maildir/new" | wc -l) messages"
OUT=$(mktemp -d)
: > "$OUT/runs"
: > "$OUT/floor"
# One import by binary $2 (named $1): wall, CPU, commits checked, git status checked.
import_once() {
  git -C "$DIR" reset -q --hard "$BASE"
  git -C "$DIR" clean -q -fdx -e Maildir
  t0=$(date +%s%N)
  /usr/bin/time -f "%U %S" -o "$OUT/cpu" \
    "$2" --quiet --desk "$DIR" --now 2026-12-14T20:00:00-05:00 --format json inbox import "$DIR/Maildir" > "$OUT/out.json"
  t1=$(date +%s%N)
  commits=$(git -C "$DIR" rev-list --count "$BASE..HEAD")
  written=$(python3 -c "import json,sys; print(sum(1 for m in json.load(open(sys.argv[1]))['messages'] if m['action'] in ('reply','answer','reopened','new','new_linked')))" "$OUT/out.json")
  ms=$(( (t1 - t0) / 1000000 ))
  cpu=$(awk '{printf "%.1f", $1 + $2}' "$OUT/cpu")
  status=$(git -C "$DIR" status --porcelain | head -3)
  [ -z "$status" ] && clean=clean || clean="NOT clean: $status"
  echo "run $i $1: $ms ms wall, $cpu s CPU, $written messages written, $commits commits, git status $clean, load $(cut -d' ' -f1 /proc/loadavg)"
  [ "$commits" -eq "$written" ] || { echo "one commit per message expected"; exit 1; }
  echo "$1 $ms $cpu" >> "$OUT/runs"
}
i=0
while [ "$i" -lt "$RUNS" ]; do
  i=$((i + 1))
  [ -n "${BASELINE:-}" ] && import_once baseline "$BASELINE"
  import_once this "$MESA"
  if [ "$FLOOR" -gt 0 ]; then
    git -C "$DIR" reset -q --hard "$BASE"
    f0=$(date +%s%N)
    n=0
    while [ "$n" -lt "$FLOOR" ]; do
      n=$((n + 1))
      echo "$n" > "$DIR/floor.txt"
      git -C "$DIR" add floor.txt
      git -C "$DIR" -c user.name=bench -c user.email=bench@example.co commit -q -m "floor $n"
    done
    f1=$(date +%s%N)
    per=$(( (f1 - f0) / 1000000 / FLOOR ))
    echo "floor $i: $FLOOR plain git commits, $per ms each"
    echo "$per" >> "$OUT/floor"
  fi
done
for who in baseline this; do
  grep "^$who " "$OUT/runs" | awk '{print $2}' | sort -n | awk -v m="$MSGS" -v w="$who" 'NR {a[NR]=$1} END {if (NR) printf "%-8s wall min %d ms, median %d ms (%d runs), %.1f msgs/s at the median\n", w, a[1], a[int((NR+1)/2)], NR, m * 1000 / a[int((NR+1)/2)]}'
  grep "^$who " "$OUT/runs" | awk '{print $3}' | sort -n | awk -v w="$who" 'NR {a[NR]=$1} END {if (NR) printf "%-8s CPU min %.1f s, median %.1f s\n", w, a[1], a[int((NR+1)/2)]}'
done
[ "$FLOOR" -gt 0 ] && sort -n "$OUT/floor" | awk '{a[NR]=$1} END {printf "floor: plain git commit min %d ms, median %d ms each\n", a[1], a[int((NR+1)/2)]}'
git -C "$DIR" reset -q --hard "$BASE"
git -C "$DIR" clean -q -fdx -e Maildir
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
rm -rf "$OUT"
