#!/usr/bin/env bash
# Comments: durable comment POSTs per second, and the article page with 200 approved
# comments on it, on SQLite, by a release build, measured with wrk.
#
#   comment POSTs  the no-JavaScript form path (POST /articles/{id}/comments, answered
#                  303 once the comment is committed). Every request is a new reader
#                  from a new network (the server trusts 127.0.0.1 as a proxy and each
#                  request names a random client address in X-Forwarded-For: the spam
#                  screen allows each network a few comments a minute) with its own
#                  text and email (the screen refuses duplicates), and carries a form
#                  token rendered before the run (the screen refuses a form sent within
#                  seconds of being shown). Every comment goes through the whole screen,
#                  classifier included. "stored" is the rows the database holds after
#                  the run, counted with sqlite3 once the server has stopped.
#   page, anonymous  GET of the article with 200 approved comments (all on one page)
#                  by readers without a cookie: the node's rendered-page cache.
#   page, a reader   the same page for a reader with a cookie: rendered for them on
#                  every request (their own pending comments may be on it).
#
#   bench/comments.sh
#
# Knobs: DURATION (default 15s), CONNECTIONS (64), THREADS (2), PORT (18190).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18190}
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet -p broadsheet
BIN=${CARGO_TARGET_DIR:-target}/release/broadsheet

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/broadsheet.toml" <<'TOML'
[engagement]
trusted_proxies = ["127.0.0.1"]
TOML

cat > "$WORK/article.md" <<'MARKDOWN'
---
title: "Bench: what readers say about the harbour bridge"
slug: bench-comments
tags: [Harbour Bridge]
date: 2026-03-04 18:30
---

The council voted. Readers comment.
MARKDOWN

DATA="$WORK/data"
mkdir -p "$DATA"
serve() {
  BROADSHEET_LOG=warn "$BIN" --config "$WORK/broadsheet.toml" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/" >/dev/null && break; sleep 0.1; done
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DATA/broadsheet.sqlite3" "$1"; }

"$BIN" --data-dir "$DATA" article publish "$WORK/article.md" >/dev/null
"$BIN" --data-dir "$DATA" settings set comments_per_page 200 >/dev/null
serve
PAGE="$BASE/2026/03/04/bench-comments/"
ID=$(curl -fs "$PAGE" | sed -n 's/.*data-article-id="\([0-9]*\)".*/\1/p' | head -n 1)
TOKEN=$(curl -fs "$PAGE" | sed -n 's/.*name="form_token" value="\([^"]*\)".*/\1/p' | head -n 1)
sleep 3.5 # the form must be older than the screen's minimum

cat > "$WORK/comment.lua" <<LUA
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
local words = { "bridge", "council", "vote", "harbour", "traffic", "ferry", "budget", "tram", "river", "school" }
request = function()
  local text = {}
  for i = 1, 12 do text[i] = words[math.random(1, #words)] end
  local n = math.random(1, 1000000000)
  local body = "comment=Thoughts+on+the+" .. table.concat(text, "+") .. "+" .. n ..
    "&author=Reader+" .. n .. "&email=reader" .. n .. "%40example.net&form_token=$TOKEN"
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254),
  }, body)
end
LUA

row() {
  local name=$1 file=$2 stored=$3
  local rps p50 p99 total errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1=="50%" {print $2}' "$file")
  p99=$(awk '$1=="99%" {print $2}' "$file")
  total=$(awk '/requests in/ {print $1}' "$file")
  errors=$(awk '/Non-2xx or 3xx/ {print $5}' "$file")
  printf '| %-16s | %10s | %8s | %8s | %9s | %9s | %6s |\n' \
    "$name" "$rps" "$p50" "$p99" "$total" "$stored" "${errors:-0}"
}

echo "comments, SQLite, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '| %-16s | %10s | %8s | %8s | %9s | %9s | %6s |\n' run "req/s" p50 p99 requests stored errors
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------ ------------ ---------- ---------- ----------- ----------- --------

URL="$BASE/articles/$ID/comments"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/comment.lua" "$URL" > "$WORK/post.wrk"
stop
row "comment POSTs" "$WORK/post.wrk" "$(rows 'SELECT COUNT(*) FROM comments')"

# 200 approved comments on a second article, all on its one page of comments.
sed -e 's/bench-comments/bench-comments-page/' "$WORK/article.md" > "$WORK/page.md"
"$BIN" --data-dir "$DATA" article publish "$WORK/page.md" >/dev/null
serve
PAGE="$BASE/2026/03/04/bench-comments-page/"
ID=$(curl -fs "$PAGE" | sed -n 's/.*data-article-id="\([0-9]*\)".*/\1/p' | head -n 1)
TOKEN=$(curl -fs "$PAGE" | sed -n 's/.*name="form_token" value="\([^"]*\)".*/\1/p' | head -n 1)
sleep 3.5
for n in $(seq 1 200); do
  curl -fs -o /dev/null -H "X-Forwarded-For: 10.200.$((n / 250)).$((n % 250 + 1))" \
    --data-urlencode "comment=Reader $n writes: the council should publish the bridge survey, and I would like to read it before the next meeting." \
    --data-urlencode "author=Reader $n" --data-urlencode "email=page$n@example.net" \
    --data-urlencode "form_token=$TOKEN" "$BASE/articles/$ID/comments"
done
stop
HELD=$(python3 -c 'import sqlite3,sys; print(" ".join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("SELECT id FROM comments WHERE article_id = ? AND status != ?", (int(sys.argv[2]), "approved"))))' "$DATA/broadsheet.sqlite3" "$ID")
[[ -z "$HELD" ]] || "$BIN" --data-dir "$DATA" comments approve $HELD >/dev/null
serve
SHOWN=$(curl -fs "$PAGE" | grep -o 'class="comment depth-1' | wc -l)
COOKIE="bs_reader=0123456789abcdef0123456789abcdef"
wrk -t2 -c16 -d2s "$PAGE" >/dev/null # warm-up
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$PAGE" > "$WORK/anon.wrk"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: $COOKIE" "$PAGE" > "$WORK/reader.wrk"
stop
row "page, anonymous" "$WORK/anon.wrk" "$SHOWN shown"
row "page, a reader" "$WORK/reader.wrk" "$SHOWN shown"
