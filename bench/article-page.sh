#!/usr/bin/env bash
# Article page throughput: requests/second and latency percentiles for one article
# page, served by a release build, measured with wrk (installed from Debian if missing).
#
#   bench/article-page.sh                 # SQLite only
#   bench/article-page.sh --postgres URL  # SQLite and PostgreSQL, same load, same run
#
# Knobs: DURATION (default 15s), CONNECTIONS (64), THREADS (2), PORT (18080; PostgreSQL
# uses the next one), BIN (a release binary to measure instead of building this tree).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
PG_URL=""
if [[ "${1:-}" == "--postgres" ]]; then PG_URL=${2:?--postgres needs a URL}; fi

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# BIN=path measures a binary built elsewhere (an older commit, side by side).
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/broadsheet
fi

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# A typical news article: ~600 words, a heading, a list, four tags.
{
  printf -- '---\ntitle: "Bench: the council votes on the harbour bridge"\nslug: bench-article\n'
  printf -- 'tags: [City Hall, Harbour Bridge, Transport, Budget]\ndate: 2026-03-04 18:30\n---\n\n'
  for i in $(seq 1 6); do
    printf '## Part %s\n\n' "$i"
    for _ in $(seq 1 4); do
      printf 'The council met late on Tuesday to weigh the cost of the new harbour bridge, '
      printf 'and members asked for a full account of the budget before any vote was taken.\n\n'
    done
    printf -- '- one point\n- another point\n\n'
  done
} > "$WORK/article.md"

# run_backend NAME DATABASE_URL PORT
run_backend() {
  local name=$1 url=$2 port=$3 data="$WORK/$1"
  mkdir -p "$data"
  BROADSHEET_DATABASE_URL="$url" BROADSHEET_LOG=warn "$BIN" --data-dir "$data" serve --listen "127.0.0.1:$port" &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  # The first start created the welcome content and its author, who writes this one.
  BROADSHEET_DATABASE_URL="$url" "$BIN" --data-dir "$data" article publish "$WORK/article.md" >/dev/null
  local path=/2026/03/04/bench-article/
  curl -fs "http://127.0.0.1:$port$path" >/dev/null
  wrk -t2 -c16 -d2s "http://127.0.0.1:$port$path" >/dev/null # warm-up
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port$path" > "$WORK/$name.wrk"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/$name.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$name.wrk")
  printf '| %-10s | %10s | %8s | %8s |\n' "$name" "$rps" "$p50" "$p99"
  echo "$rps" > "$WORK/$name.rps"
}

echo "article page, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '| %-10s | %10s | %8s | %8s |\n' backend "req/s" p50 p99
printf '|%s|%s|%s|%s|\n' ------------ ------------ ---------- ----------
run_backend sqlite "sqlite:$WORK/sqlite/broadsheet.sqlite3" "$PORT"
if [[ -n "$PG_URL" ]]; then
  db=broadsheet_bench_$$
  psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
  pg_bench_url="${PG_URL%/*}/$db"
  run_backend postgres "$pg_bench_url" "$((PORT + 1))"
  psql "$PG_URL" -qc "DROP DATABASE $db" >/dev/null
  awk -v s="$(cat "$WORK/sqlite.rps")" -v p="$(cat "$WORK/postgres.rps")" \
    'BEGIN { printf "postgres/sqlite throughput ratio: %.2f\n", p / s }'
fi
