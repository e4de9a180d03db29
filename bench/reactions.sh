#!/usr/bin/env bash
# Reaction throughput: durable emoji reactions per second through the no-JavaScript
# form path (POST /articles/{id}/engage, answered 303 once the vote is committed), on
# SQLite, by a release build, measured with wrk. Every request carries a new random
# reader cookie, so each one is a new reader: the heaviest case for the store (a new
# reader row and a counter update per request). Rate limits and the per-network cap are
# raised in a config file written here, since all the load comes from one machine.
#
# Two runs, same binary, same kind of article:
#   many-networks  the server sits behind a trusted proxy (127.0.0.1) and every request
#                  names a random client address in X-Forwarded-For: readers from many
#                  networks, as a real audience arrives.
#   one-network    every request comes from the same address and browser: one network
#                  adding tens of thousands of readers to one article, which only a
#                  lifted per-network cap allows (the default cap is 50 a day).
#
# Then the article page is measured again (bench/article-page.sh, same machine, same
# run) and compared with the baseline in BENCHMARKS.md, which the engagement widgets
# must stay within 10% of.
#
#   bench/reactions.sh
#
# Knobs: DURATION (default 15s), CONNECTIONS (64), THREADS (2), BASELINE (4208.40,
# the article page's SQLite req/s before engagement), BASELINE_BIN (a release binary of
# the commit before engagement, to measure its article page side by side in this run),
# PORT (18090; the article pages use PORT+10), SKIP_PAGE=1 to skip the article page.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BASELINE=${BASELINE:-4208.40}
PORT=${PORT:-18090}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet -p broadsheet
BIN=${CARGO_TARGET_DIR:-target}/release/broadsheet

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/broadsheet.toml" <<'TOML'
[engagement]
trusted_proxies = ["127.0.0.1"]
votes_per_minute_per_reader = 1000000
votes_per_minute_per_network = 1000000000
readers_per_network_per_article_per_day = 1000000000
TOML

cat > "$WORK/article.md" <<'MARKDOWN'
---
title: "Bench: how do you feel about the harbour bridge?"
slug: bench-reactions
tags: [Harbour Bridge]
date: 2026-03-04 18:30
---

The council voted. Readers react.
MARKDOWN

# One new reader per request (32 random hex digits) and one of the six reactions; with
# FORWARD, a random client address too.
write_lua() {
  cat > "$WORK/react.lua" <<LUA
local forward = $1
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
local keys = { "happy", "sad", "excited", "sleepy", "angry", "surprise" }
local hex = "0123456789abcdef"
request = function()
  local id = {}
  for i = 1, 32 do
    local n = math.random(1, 16)
    id[i] = hex:sub(n, n)
  end
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "bs_reader=" .. table.concat(id),
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  }
  if forward then
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  end
  return wrk.format("POST", nil, headers, "action=react&value=" .. keys[math.random(1, 6)])
end
LUA
}

reactions() {
  python3 -c 'import json,sys; print(sum(r["count"] for r in json.load(sys.stdin)["reactions"]))'
}

# run NAME FORWARD(true|false): one server on a fresh database, one wrk run.
run() {
  local name=$1 data="$WORK/$1"
  mkdir -p "$data"
  write_lua "$2"
  BROADSHEET_LOG=warn "$BIN" --config "$WORK/broadsheet.toml" --data-dir "$data" serve --listen "127.0.0.1:$PORT" &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
  "$BIN" --data-dir "$data" article publish "$WORK/article.md" >/dev/null
  local id
  id=$(curl -fs "http://127.0.0.1:$PORT/2026/03/04/bench-reactions/" |
    sed -n 's/.*data-article-id="\([0-9]*\)".*/\1/p' | head -n 1)
  local url="http://127.0.0.1:$PORT/articles/$id/engage"
  local api="http://127.0.0.1:$PORT/api/v1/articles/$id/engagement"
  wrk -t2 -c16 -d2s -s "$WORK/react.lua" "$url" >/dev/null # warm-up
  local before after
  before=$(curl -fs "$api" | reactions)
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/react.lua" "$url" > "$WORK/$name.wrk"
  sleep 1.5 # requests in flight when wrk stopped, and the API's one-second cache
  after=$(curl -fs "$api" | reactions)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  local rps p50 p99 total errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/$name.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$name.wrk")
  total=$(awk '/requests in/ {print $1}' "$WORK/$name.wrk")
  errors=$(awk '/Non-2xx or 3xx/ {print $5}' "$WORK/$name.wrk")
  printf '| %-14s | %10s | %8s | %8s | %9s | %9s | %6s |\n' \
    "$name" "$rps" "$p50" "$p99" "$total" "$((after - before))" "${errors:-0}"
}

echo "reactions, a new reader each, SQLite, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '| %-14s | %10s | %8s | %8s | %9s | %9s | %6s |\n' run "req/s" p50 p99 requests counted errors
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ---------------- ------------ ---------- ---------- ----------- ----------- --------
run many-networks true
run one-network false

# page_rps FILE: the SQLite req/s from an article-page.sh table.
page_rps() { awk -F'|' '$2 ~ /sqlite/ {gsub(/ /, "", $3); print $3}' "$1"; }

if [[ "${SKIP_PAGE:-}" != 1 ]]; then
  if [[ -n "${BASELINE_BIN:-}" ]]; then
    echo
    echo "article page, before engagement ($BASELINE_BIN):"
    BIN="$BASELINE_BIN" PORT=$((PORT + 10)) bash bench/article-page.sh | tee "$WORK/before.out"
  fi
  echo
  echo "article page, this tree:"
  PORT=$((PORT + 10)) bash bench/article-page.sh | tee "$WORK/page.out"
  awk -v p="$(page_rps "$WORK/page.out")" -v b="$BASELINE" \
    'BEGIN { printf "article page vs the recorded baseline (%s req/s): %.3f\n", b, p / b }'
  if [[ -n "${BASELINE_BIN:-}" ]]; then
    awk -v p="$(page_rps "$WORK/page.out")" -v b="$(page_rps "$WORK/before.out")" \
      'BEGIN { printf "article page vs before engagement, same run (%s req/s): %.3f\n", b, p / b }'
  fi
fi
