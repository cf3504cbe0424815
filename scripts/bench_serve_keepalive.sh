#!/usr/bin/env bash
# How long `mesa serve` takes to answer a page request on a kept-alive connection (the second
# and later requests on one socket, as browsers and link checkers send them) against a request
# on a new connection, on the sample desk. Rounds are interleaved (new, kept-alive, new, ...)
# so machine load hits both alike; prints min and median of each and the load average.
#
#   scripts/bench_serve_keepalive.sh [ROUNDS] [PAGE]
#   MESA_BIN=/path/to/mesa scripts/bench_serve_keepalive.sh     # an already built binary
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-200}
page=${2:-index.html}
if [ -z "${MESA_BIN:-}" ]; then
  cargo build --release --quiet --bin mesa
fi
mesa=$(realpath "${MESA_BIN:-target/release/mesa}")
work=$(mktemp -d "${TMPDIR:-/tmp}/mesa-keepalive-bench.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/desk"
cp -r desk.yaml kb tickets theme "$work/desk/"
"$mesa" --desk "$work/desk" serve --port 0 >"$work/serve.log" 2>&1 &
pid=$!
until grep -q 'http://' "$work/serve.log"; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.2
done
url=$(grep -o 'http://[^ ]*' "$work/serve.log" | head -1)
python3 - "$url" "$page" "$rounds" <<'PY'
import os, socket, statistics, sys, time
from urllib.parse import urlparse

url, page, rounds = urlparse(sys.argv[1]), sys.argv[2], int(sys.argv[3])
host, port = url.hostname, url.port
request = (f"GET /{page} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").encode()

def read_response(sock, buf):
    """Reads one response (headers + Content-Length body); returns leftover bytes."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise RuntimeError(f"status {status!r} for /{page}")
    length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")
                  if l.lower().startswith(b"content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in the body")
        rest += chunk
    return rest[length:]

def fresh():
    """One request on a new connection (connect included)."""
    t = time.perf_counter()
    with socket.create_connection((host, port)) as s:
        s.sendall(request)
        read_response(s, b"")
    return time.perf_counter() - t

kept = socket.create_connection((host, port))
kept.sendall(request)          # the first request on it is not measured
leftover = read_response(kept, b"")

def again():
    """One more request on the kept-alive connection."""
    global leftover
    t = time.perf_counter()
    kept.sendall(request)
    leftover = read_response(kept, leftover)
    return time.perf_counter() - t

for _ in range(5):             # warm-up
    fresh(); again()
new_times, kept_times = [], []
for _ in range(rounds):
    new_times.append(fresh())
    kept_times.append(again())
load = os.getloadavg()
ms = lambda x: f"{x * 1000:.2f} ms"
print(f"/{page}, {rounds} interleaved rounds")
print(f"new connection:        min {ms(min(new_times))}, median {ms(statistics.median(new_times))}")
print(f"kept-alive connection: min {ms(min(kept_times))}, median {ms(statistics.median(kept_times))}")
print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
PY
