#!/usr/bin/env bash
# Builds the same article corpus with mesa (release) and Hugo, side by side, and prints pages per
# second and peak memory for each.
#
#   scripts/bench_vs_hugo.sh [N ...]        # default: 1000 10000 50000
#   RUNS=5 scripts/bench_vs_hugo.sh 1000    # builds per tool and size (default 3): best time,
#                                           # highest peak memory
#
# Each corpus is N small articles (front matter + about 40 lines of Markdown: headings, lists, a
# table, links, emphasis, code). mesa gets them as kb/articles/ of a desk made from this repo's
# desk.yaml and kb/ (its catalog, playbook and articles link each other), with no tickets; Hugo gets the same files as
# content/articles/ of a minimal site with a trivial layout (no taxonomies, RSS or sitemap).
# Pages are counted as the HTML files each tool wrote. Needs: hugo, /usr/bin/time, python3.
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
work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

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

# Runs a command under /usr/bin/time -v; prints "seconds peak_kib".
measure_once() {
  local log="$work/time.log"
  /usr/bin/time -v "$@" >"$work/out.log" 2>"$log" || { cat "$work/out.log" "$log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  python3 -c 'import sys
parts = sys.argv[1].split(":")
secs = sum(float(p) * 60 ** i for i, p in enumerate(reversed(parts)))
print(f"{secs:.2f} {sys.argv[2]}")' "$wall" "$rss"
}

# measure_once RUNS times (each into a fresh output folder named by the last argument plus
# the run number); prints the best time and the highest peak memory. Other processes on a
# shared machine only ever make a run slower, so the best run is the closest to the tool's
# own cost.
runs=${RUNS:-3}
measure() {
  local out=${*: -1} best="" peak=0 secs kib
  for ((r = 1; r <= runs; r++)); do
    read -r secs kib < <(measure_once "${@:1:$#-1}" "$out-$r")
    if [ -z "$best" ] || python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$secs" "$best"; then best=$secs; fi
    [ "$kib" -gt "$peak" ] && peak=$kib
  done
  echo "$best $peak"
}

printf '%-7s %-5s %8s %9s %10s %11s\n' pages tool html seconds pages/s peak_MiB
for n in "${sizes[@]}"; do
  desk="$work/desk-$n"
  site="$work/hugo-$n"
  mkdir -p "$desk/kb" "$desk/tickets" "$site/layouts/_default"
  cp "$repo/desk.yaml" "$desk/"
  cp -r "$repo/kb/catalog" "$repo/kb/playbook" "$repo/kb/articles" "$desk/kb/"
  generate "$n" "$desk/kb/articles" "$site/content/articles"
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
  read -r m_secs m_kib < <(measure "$mesa" --desk "$desk" --quiet build --public --out "$work/mesa-out-$n")
  m_pages=$(find "$work/mesa-out-$n-1" -name '*.html' | wc -l)
  read -r h_secs h_kib < <(measure hugo --quiet --source "$site" --destination "$work/hugo-out-$n")
  h_pages=$(find "$work/hugo-out-$n-1" -name '*.html' | wc -l)
  python3 - "$n" "$m_pages" "$m_secs" "$m_kib" "$h_pages" "$h_secs" "$h_kib" <<'PY'
import sys
n, mp, ms, mk, hp, hs, hk = sys.argv[1:]
mp, hp = int(mp), int(hp)
ms, hs, mk, hk = float(ms), float(hs), int(mk), int(hk)
mr, hr = mp / ms, hp / hs
print(f"{n:<7} {'mesa':<5} {mp:>8} {ms:>9.2f} {mr:>10.0f} {mk / 1024:>11.0f}")
print(f"{n:<7} {'hugo':<5} {hp:>8} {hs:>9.2f} {hr:>10.0f} {hk / 1024:>11.0f}")
print(f"{n:<7} mesa/hugo: {mr / hr:.1f}x pages/s, {mk / hk:.2f}x peak memory")
PY
  # Nothing is deleted until the end: on ext4 without a journal, creating files within 30 s of
  # deleting many others scans every recently freed inode (see `recently_deleted` in a
  # profile), which would charge the next round's first tool for this round's cleanup.
done
