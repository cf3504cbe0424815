#!/usr/bin/env bash
# Builds the same article corpus with mesa (release) and Hugo, run by run (hugo, mesa, hugo,
# mesa...), so a noisy shared machine disturbs both alike, and prints for each tool the min and
# median wall time and pages per second, the median user and system CPU time, the highest peak
# memory, and the load average before and after each size.
#
#   scripts/bench_vs_hugo.sh [N ...]        # default: 1000 10000 50000
#   RUNS=5 scripts/bench_vs_hugo.sh 1000    # runs per tool and size (default 3)
#   BASELINE=/tmp/mesa-old scripts/bench_vs_hugo.sh 1000   # also run another mesa binary
#                                           # ("base"), interleaved: hugo, mesa, base, hugo...
#   BENCH_DIR=/tmp/dir scripts/bench_vs_hugo.sh 1000   # keep the desks and sites there (reused
#                                           # when present) instead of a deleted temp folder
#   METHOD=settled|fresh|delete scripts/bench_vs_hugo.sh 10000   # how runs are kept apart on a
#                                           # disk (below; default settled)
#
# Each corpus is N small articles (front matter + about 40 lines of Markdown: headings, lists, a
# table, links, emphasis, code). mesa gets them as kb/articles/ of a desk made from this repo's
# desk.yaml and kb/ (its catalog, playbook and articles link each other), with no tickets; Hugo gets the same files as
# content/articles/ of a minimal site with a trivial layout (no taxonomies, RSS or sitemap).
# Pages are counted as the HTML files each tool wrote. Needs: hugo, /usr/bin/time, python3.
#
# Fairness on a disk. METHOD says how the runs are kept apart; it is printed at the start and on
# every summary line, so figures taken each way can be compared:
#   settled (default): every run writes into a new folder of its own and nothing is deleted
#     until the script ends, as in `fresh`; in addition, before every timed run (untimed): `sync`,
#     so no run pays (in CPU taken by the kernel's writeback, and in waiting on the disk) for the
#     pages the run before it left dirty, and a probe that creates 1,000 empty files in a new
#     folder beside the outputs (kept until the end) and prints their system time per file: a
#     run after a deletion nearby, by anyone, shows up there. With WAIT_DELETED=1 it waits (up
#     to 6 minutes) until the probe is under PROBE_US (default 40) microseconds per file.
#   fresh: each run into a new folder, nothing deleted until the end, no sync, no probe (the
#     method of session 8).
#   delete: each run's output is deleted right after it is measured (before the next tool's
#     run), no sync, no probe: the way a harness that cleans up as it goes measures, shown here
#     to compare, since the next run then pays for the deletion (below).
# The order of the
# tools rotates from round to round (hugo mesa base, mesa base hugo, base hugo mesa), so a
# disturbance from outside (another process deleting files) does not always fall on the same
# tool. Each run's wall, user and system time is printed as it ends, and the table gives the
# median user and system time apart: on ext4 without a journal (this machine's /tmp), creating
# a file scans past every inode of its block group freed in the last 60 s, or 360 s while that
# inode's table block is not yet written back (`recently_deleted` in a kernel profile), so
# system time there depends on what was deleted nearby before, by anyone. With BENCH_DIR, the
# script records when it deleted its outputs and warns if a new run starts within those 6
# minutes; WAIT_DELETED=1 waits them out instead. On
# tmpfs (BENCH_DIR=/dev/shm/...) only the tools' own work is compared.
#
# Hugo is run with `--quiet --noBuildLock` (no lock file created per run) and no option that
# costs it time (`--gc`, `--minify`, `--cleanDestinationDir`, `--templateMetrics` are not
# passed); its site disables the page kinds mesa has no counterpart for (taxonomies, terms, RSS,
# sitemap, robots.txt, 404), which only removes work from Hugo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 50000)

for tool in hugo python3 /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool (apt-get install -y hugo time python3)" >&2; exit 1; }
done

# MESA_BIN: an already built binary (default: build this checkout in release mode).
if [ -n "${MESA_BIN:-}" ]; then
  mesa=$(realpath "$MESA_BIN")
else
  cargo build --release --quiet --bin mesa
  mesa="$repo/target/release/mesa"
fi
base=""
[ -z "${BASELINE:-}" ] || base=$(realpath "$BASELINE")
if [ -n "${BENCH_DIR:-}" ]; then
  mkdir -p "$BENCH_DIR"
  work=$(realpath "$BENCH_DIR")
  trap 'rm -rf "$work"/*-out-* "$work"/runs-* "$work"/pages-* "$work"/probe-* "$work"/*.log; date +%s >"$work/.deleted"' EXIT
  if [ -f "$work/.deleted" ]; then
    ago=$(($(date +%s) - $(cat "$work/.deleted")))
    if [ "$ago" -lt 370 ] && [ "${WAIT_DELETED:-0}" = 1 ]; then
      echo "waiting $((370 - ago)) s: this folder's last outputs were deleted $ago s ago"
      sleep $((370 - ago))
    elif [ "$ago" -lt 370 ]; then
      echo "note: this folder's last outputs were deleted $ago s ago; on ext4 without a journal new files nearby cost more system time for up to 6 minutes (WAIT_DELETED=1 waits)"
    fi
  fi
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-bench.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
method=${METHOD:-settled}
case $method in
  settled | fresh | delete) ;;
  *) echo "METHOD must be settled, fresh or delete (not $method)" >&2; exit 1 ;;
esac
probe_us=${PROBE_US:-40}
echo "mesa: $mesa${base:+  base: $base}  runs: ${RUNS:-3}  load: $(cut -d' ' -f1-3 /proc/loadavg)"
case $method in
  settled) echo "method: settled (a new folder per run, nothing deleted until the end; sync and a probe of 1,000 new files before every run${WAIT_DELETED:+, waiting while the probe is over $probe_us us/file})" ;;
  fresh) echo "method: fresh (a new folder per run, nothing deleted until the end; no sync, no probe: session 8's)" ;;
  delete) echo "method: delete (each run's output deleted right after it, before the next run; no sync, no probe)" ;;
esac
echo "$(hugo version | cut -d' ' -f1-2); folder: $work ($(findmnt -no FSTYPE -T "$work" 2>/dev/null | head -1 || stat -f -c %T "$work")); kernel $(uname -r); $(nproc) cores"

# Writes N articles into $2 (mesa front matter) and $3 (Hugo front matter), same bodies.
generate() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
n, mesa_dir, hugo_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(mesa_dir, exist_ok=True)
os.makedirs(hugo_dir, exist_ok=True)
words = ("equipo usuario cámara captura biométrico huellero sede plataforma reporte plantilla "
         "historia clínica conexión servidor navegador permiso perfil administrador cotización "
         "solicitud incidente verificación escalamiento nivel soporte técnico cliente").split()
cats = ["Acceso", "Dispositivos", "Funcionalidad", "Reportes", "Facturación", "Usuarios"]
def sentence(i, k):
    return " ".join(words[(i * 7 + k * 3 + j) % len(words)] for j in range(12)).capitalize() + "."
for i in range(n):
    slug = f"articulo-{i:06d}"
    title = f"Artículo de prueba {i}: {words[i % len(words)]} y {words[(i * 5) % len(words)]}"
    body = []
    for s in range(4):
        body.append(f"## Sección {s + 1}")
        body.append("")
        body.append(sentence(i, s) + " " + sentence(i, s + 1) + " Con *énfasis* y **fuerza**.")
        body.append("")
        body.append(f"- Paso uno de la sección {s + 1}: {sentence(i, s + 2)}")
        body.append(f"- Paso dos: revise `config-{i % 97}.yaml` y el [artículo anterior](articulo-{max(i - 1, 0):06d}.md).")
        body.append(f"- Paso tres: {sentence(i, s + 3)}")
        body.append("")
    body += ["| Campo | Valor |", "|---|---|", f"| Caso | {i} |", f"| Nivel | {i % 5 + 1} |", ""]
    body += ["```", f"ping servidor-{i % 13}.example.co", "```", ""]
    body += [sentence(i, 9) + " " + sentence(i, 10), ""]
    text = "\n".join(body)
    cat = cats[i % len(cats)]
    tags = f"[{words[i % len(words)]}, {words[(i + 3) % len(words)]}]"
    summary = sentence(i, 11)
    with open(os.path.join(mesa_dir, slug + ".md"), "w") as f:
        f.write(f"---\ntitle: \"{title}\"\nkind: article\ncategory: {cat}\ntags: {tags}\n"
                f"summary: {summary}\ninternal: false\n---\n{text}")
    with open(os.path.join(hugo_dir, slug + ".md"), "w") as f:
        f.write(f"---\ntitle: \"{title}\"\ncategories: [\"{cat}\"]\ntags: {tags}\n"
                f"summary: \"{summary}\"\n---\n{text.replace('.md)', '/)')}")
PY
}

# Runs a command under /usr/bin/time; prints "wall_seconds user_seconds system_seconds peak_kib".
measure_once() {
  local log="$work/time.log"
  /usr/bin/time -f '%e %U %S %M' -o "$log" "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log" "$log" >&2; exit 1; }
  cat "$log"
}

# System CPU time per new file, in microseconds, of 1,000 empty files created in a new folder
# under $work (the folder is kept: deleting it would disturb the next run). ext4 without a
# journal puts them where a tool's new output folder goes, and charges them the same scan of
# recently freed inodes.
probe() {
  python3 - "$work/probe-$(date +%s%N)" <<'PY'
import os, resource, sys
d = sys.argv[1]
os.mkdir(d)
t = resource.getrusage(resource.RUSAGE_SELF).ru_stime
for i in range(1000):
    os.close(os.open(os.path.join(d, f"p{i}"), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644))
u = resource.getrusage(resource.RUSAGE_SELF).ru_stime
print(f"{(u - t) * 1000:.0f}")
PY
}

# What `settled` does before a timed run: flush what the last run left dirty, then probe (and
# with WAIT_DELETED=1 wait while the probe says recently freed inodes are being scanned).
settle() {
  sync
  local us waited=0
  us=$(probe)
  while [ "${WAIT_DELETED:-0}" = 1 ] && [ "$us" -gt "$probe_us" ] && [ "$waited" -lt 360 ]; do
    sleep 20
    waited=$((waited + 20))
    sync
    us=$(probe)
  done
  settle_note="probe ${us} us/file${WAIT_DELETED:+, waited ${waited} s}"
}

# One timed run of tool $1 ("hugo", "mesa" or "base"), round $2, size $3: appended to the runs.
run_tool() {
  local line out="$work/$1-out-$3-$2"
  settle_note=""
  [ "$method" != settled ] || settle
  case $1 in
    hugo) line=$(measure_once hugo --quiet --noBuildLock --source "$site" --destination "$out") ;;
    mesa) line=$(measure_once "$mesa" --desk "$desk" --quiet build --public --out "$out") ;;
    base) line=$(measure_once "$base" --desk "$desk" --quiet build --public --out "$out") ;;
  esac
  echo "$1 $line" >>"$work/runs-$3"
  read -r wall user sys kib <<<"$line"
  printf '  %-4s %6s run %d: %6.2f s wall, %6.2f s user, %5.2f s system, %5d MiB, load %s%s\n' \
    "$1" "$3" "$2" "$wall" "$user" "$sys" $((kib / 1024)) "$(cut -d' ' -f1 /proc/loadavg)" \
    "${settle_note:+; $settle_note}"
  [ "$2" -gt 1 ] || find "$out" -name '*.html' | wc -l >"$work/pages-$1-$3"
  [ "$method" != delete ] || rm -rf "$out"
}

runs=${RUNS:-3}
header() {
  printf '%-7s %-5s %6s %8s %8s %9s %9s %7s %6s %9s\n' size tool html min_s median_s min_p/s med_p/s user_s sys_s peak_MiB
}
for n in "${sizes[@]}"; do
  desk="$work/desk-$n"
  site="$work/hugo-$n"
  if [ ! -f "$site/hugo.toml" ]; then
  mkdir -p "$desk/kb" "$desk/tickets" "$site/layouts/_default"
  cp "$repo/desk.yaml" "$desk/"
  cp -r "$repo/kb/catalog" "$repo/kb/playbook" "$repo/kb/articles" "$desk/kb/"
  generate "$n" "$desk/kb/articles" "$site/content/articles"
  fi
  cat >"$site/hugo.toml" <<'TOML'
baseURL = "http://localhost/"
languageCode = "es"
title = "Bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[markup.goldmark.renderer]
unsafe = false
TOML
  cat >"$site/layouts/_default/baseof.html" <<'HTML'
<!doctype html><html lang="es"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main>{{ block "main" . }}{{ end }}</main></body></html>
HTML
  cat >"$site/layouts/_default/single.html" <<'HTML'
{{ define "main" }}<article><h1>{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content }}</article>{{ end }}
HTML
  cat >"$site/layouts/_default/list.html" <<'HTML'
{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
HTML
  sync
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  : >"$work/runs-$n"
  tools=(hugo mesa)
  [ -z "$base" ] || tools+=(base)
  for ((r = 1; r <= runs; r++)); do
    for ((k = 0; k < ${#tools[@]}; k++)); do
      run_tool "${tools[(r - 1 + k) % ${#tools[@]}]}" "$r" "$n"
    done
  done
  m_pages=$(cat "$work/pages-mesa-$n")
  h_pages=$(cat "$work/pages-hugo-$n")
  if [ -n "$base" ] && [ "$method" = delete ]; then
    echo "$n: (method delete: the sites were deleted, not compared with the baseline's)"
  elif [ -n "$base" ] && ! diff -r -q "$work/mesa-out-$n-1" "$work/base-out-$n-1" >/dev/null; then
    echo "$n: the site of $mesa differs from the baseline's" >&2
  fi
  header
  python3 - "$n" "$m_pages" "$h_pages" "$work/runs-$n" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$method" <<'PY'
import statistics, sys
n, mp, hp, path, before, after, method = sys.argv[1:]
pages = {"mesa": int(mp), "hugo": int(hp), "base": int(mp)}
runs = {"mesa": [], "hugo": [], "base": []}
for line in open(path):
    tool, wall, user, sys_, kib = line.split()
    runs[tool].append((float(wall), float(user), float(sys_), int(kib)))
res = {}
for tool in [t for t in ("hugo", "mesa", "base") if runs[t]]:
    walls = sorted(r[0] for r in runs[tool])
    user = statistics.median(r[1] for r in runs[tool])
    sys_ = statistics.median(r[2] for r in runs[tool])
    peak = max(r[3] for r in runs[tool]) / 1024
    lo, med = walls[0], statistics.median(walls)
    p = pages[tool]
    res[tool] = (p / lo, p / med, peak)
    print(f"{n:<7} {tool:<5} {p:>6} {lo:>8.2f} {med:>8.2f} {p / lo:>9.0f} {p / med:>9.0f} {user:>7.2f} {sys_:>6.2f} {peak:>9.0f}")
m, h = res["mesa"], res["hugo"]
print(f"{n:<7} mesa/hugo: {m[0] / h[0]:.1f}x pages/s (best runs), {m[1] / h[1]:.1f}x (medians), "
      f"{m[2] / h[2]:.2f}x peak memory; method {method}; load average {before} before, {after} after")
if "base" in res:
    b = res["base"]
    print(f"{n:<7} base/hugo: {b[0] / h[0]:.1f}x pages/s (best runs), {b[1] / h[1]:.1f}x (medians), "
          f"{b[2] / h[2]:.2f}x peak memory")
PY
  # Nothing is deleted until the end: on ext4 without a journal, creating files within 30 s of
  # deleting many others scans every recently freed inode (see `recently_deleted` in a
  # profile), which would charge the next round's first tool for this round's cleanup.
done
