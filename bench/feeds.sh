#!/usr/bin/env bash
# Feed throughput: the site's RSS, Atom and JSON Feed (20 newest of ARTICLES articles,
# full content) and a tag's RSS, plus a conditional request answered 304, served by a
# release build on SQLite and measured with wrk.
#
#   bench/feeds.sh
#
# Knobs: ARTICLES (default 200), DURATION (10s), CONNECTIONS (16), PORT (18200),
# BIN (a release binary to measure instead of building this tree).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-200}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18200}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet -p broadsheet
  BIN=${CARGO_TARGET_DIR:-target}/release/broadsheet
fi

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
DATA="$WORK/data"
mkdir -p "$DATA" "$WORK/articles"
URL="http://127.0.0.1:$PORT"

BROADSHEET_PASSWORD="bench-$RANDOM" "$BIN" --data-dir "$DATA" user add \
  --name "Bench Author" --email bench@example.org --role author >/dev/null

# ~600-word articles over the last days, two tags each.
python3 - "$WORK/articles" "$ARTICLES" <<'PY'
import datetime, sys
folder, count = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc)
words = "The council met late on Tuesday to weigh the cost of the new harbour bridge. " * 40
for i in range(count):
    at = now - datetime.timedelta(minutes=90 * (count - i))
    with open(f"{folder}/a{i:05}.md", "w") as f:
        f.write(f"---\ntitle: \"Bench story {i} & <friends>\"\nslug: bench-{i}\n"
                f"tags: [Tag {i % 20}, Harbour]\ndate: {at:%Y-%m-%d %H:%M}\n"
                f"---\n\n{words}\n")
PY
find "$WORK/articles" -name '*.md' -print0 |
  xargs -0 -P 2 -I{} "$BIN" --data-dir "$DATA" article publish --author bench@example.org {} >/dev/null

BROADSHEET_LOG=warn "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" &
for _ in $(seq 1 100); do curl -fs "$URL/" >/dev/null && break; sleep 0.1; done
ETAG=$(curl -fsI "$URL/feed.xml" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')

echo "feeds, SQLite, $ARTICLES articles, wrk -t2 -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '| %-22s | %10s | %8s | %8s | %6s |\n' request "req/s" p50 p99 KB
printf '|%s|%s|%s|%s|%s|\n' ------------------------ ------------ ---------- ---------- --------
run() {
  local name=$1 path=$2; shift 2
  local kb=$(( $(curl -fs "$@" "$URL$path" | wc -c) / 1024 ))
  wrk -t2 -c4 -d2s "$@" "$URL$path" >/dev/null # warm-up
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$URL$path" > "$WORK/run.wrk"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/run.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/run.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/run.wrk")
  printf '| %-22s | %10s | %8s | %8s | %6s |\n' "$name" "$rps" "$p50" "$p99" "$kb"
}
run "/feed.xml" /feed.xml
run "/atom.xml" /atom.xml
run "/feed.json" /feed.json
run "/tag/harbour/feed.xml" /tag/harbour/feed.xml
run "/feed.xml (304)" /feed.xml -H "If-None-Match: $ETAG"
