#!/usr/bin/env bash
# Search latency over a generated corpus on SQLite: p50/p99 of /search?q= across a
# fixed set of queries (common, rare, several words, filters, garbage), one request at
# a time so the figures are the query's own latency, not queueing, with wrk.
#
#   bench/search.sh            # 100,000 articles
#   COUNT=20000 bench/search.sh
#
# Knobs: COUNT (100000), DURATION (20s), CONNECTIONS (1), PORT (18090), CORPUS (a
# database file to keep the generated corpus in and reuse on the next run).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-100000}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-1}
PORT=${PORT:-18090}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet -p broadsheet --bin broadsheet --example search_corpus
TARGET=${CARGO_TARGET_DIR:-target}/release
BIN=$TARGET/broadsheet

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

mkdir -p "$WORK/data"
DB="$WORK/data/broadsheet.sqlite3"
if [ -n "${CORPUS:-}" ] && [ -f "$CORPUS" ]; then
  cp "$CORPUS" "$DB"
else
  "$TARGET/examples/search_corpus" "$DB" "$COUNT"
  if [ -n "${CORPUS:-}" ]; then cp "$DB" "$CORPUS"; fi
fi
echo "database: $(du -h "$DB" | cut -f1) for $COUNT articles"

BROADSHEET_DATABASE_URL="sqlite:$DB" BROADSHEET_LOG=warn "$BIN" --data-dir "$WORK/data" serve --listen "127.0.0.1:$PORT" &
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done

# The queries, each with how many articles it finds, then wrk cycling through them.
QUERIES=(
  "/search?q=council"
  "/search?q=budget"
  "/search?q=harbour%20bridge"
  "/search?q=election%20minister%20vote"
  "/search?q=kalomi"
  "/search?q=zatzatzat"
  "/search?q=serdopi%20norque"
  "/search?q=council&tag=topic-3"
  "/search?q=storm&from=2026-01-01&to=2026-12-31"
  "/search?q=budget&page=5"
  "/search?q=%22council%22%20AND%20NOT%20(budget*"
  "/search?q=%E6%9D%B1%E4%BA%AC"
  "/search?q=nosuchwordanywhere"
)
for q in "${QUERIES[@]}"; do
  total=$(curl -fs "http://127.0.0.1:$PORT/api/v1/${q#/}" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
  printf '%8s results  %s\n' "$total" "$q"
done
{
  echo 'local paths = {'
  for q in "${QUERIES[@]}"; do echo "  \"$q\","; done
  echo '}'
  echo 'local i = 0'
  echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
} > "$WORK/queries.lua"
wrk -t1 -c"$CONNECTIONS" -d5s -s "$WORK/queries.lua" "http://127.0.0.1:$PORT" >/dev/null # warm-up
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/queries.lua" "http://127.0.0.1:$PORT" > "$WORK/search.wrk"
echo "search, $COUNT articles, wrk -t1 -c$CONNECTIONS -d$DURATION over ${#QUERIES[@]} queries, $(nproc) cores"
awk '/Requests\/sec/ {print "req/s: " $2} $1=="50%" {print "p50: " $2} $1=="90%" {print "p90: " $2} $1=="99%" {print "p99: " $2}' "$WORK/search.wrk"
