#!/usr/bin/env bash
# API throughput beside the HTML pages: the /api/v1 article list and one article, the
# WordPress-compatible /wp-json/wp/v2/posts list and one post, and the same article's
# HTML page and the home page, served by a release build on SQLite, measured with wrk.
#
#   bench/api.sh
#
# Knobs: ARTICLES (default 200), DURATION (10s), CONNECTIONS (16), PORT (18300),
# BIN (a release binary to measure instead of building this tree).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-200}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18300}

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
# wrk comes from one address: lift the per-address API limit (600/min by default),
# or the bench would measure 429s.
printf '[api]\nrequests_per_minute_per_address = 4000000000\n' > "$WORK/config.toml"

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
        f.write(f"---\ntitle: \"Bench story {i}\"\nslug: bench-{i}\n"
                f"tags: [Tag {i % 20}, Harbour]\ndate: {at:%Y-%m-%d %H:%M}\n"
                f"---\n\n{words}\n")
PY
find "$WORK/articles" -name '*.md' -print0 |
  xargs -0 -P 2 -I{} "$BIN" --data-dir "$DATA" article publish --author bench@example.org {} >/dev/null

BROADSHEET_LOG=warn "$BIN" --data-dir "$DATA" --config "$WORK/config.toml" serve --listen "127.0.0.1:$PORT" &
for _ in $(seq 1 100); do curl -fs "$URL/" >/dev/null && break; sleep 0.1; done
SLUG=bench-$((ARTICLES - 1))
ID=$(curl -fs "$URL/api/v1/articles/$SLUG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
PERMALINK=$(curl -fs "$URL/api/v1/articles/$SLUG" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.urlparse(json.load(sys.stdin)["url"]).path)')

echo "API beside HTML, SQLite, $ARTICLES articles, wrk -t2 -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '| %-34s | %10s | %8s | %8s | %6s |\n' request "req/s" p50 p99 KB
printf '|%s|%s|%s|%s|%s|\n' ------------------------------------ ------------ ---------- ---------- --------
run() {
  local name=$1 path=$2; shift 2
  local kb=$(( $(curl -fs "$@" "$URL$path" | wc -c) / 1024 ))
  wrk -t2 -c4 -d2s "$@" "$URL$path" >/dev/null # warm-up
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$URL$path" > "$WORK/run.wrk"
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/run.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/run.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/run.wrk")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/run.wrk")
  [[ -z "$non2xx" ]] || { echo "$name: $non2xx answers were not 2xx" >&2; exit 1; }
  printf '| %-34s | %10s | %8s | %8s | %6s |\n' "$name" "$rps" "$p50" "$p99" "$kb"
}
run "HTML article page" "$PERMALINK"
run "GET /api/v1/articles/{slug}" "/api/v1/articles/$SLUG"
run "GET /wp-json/wp/v2/posts/{id}" "/wp-json/wp/v2/posts/$ID"
run "HTML home page" /
run "GET /api/v1/articles (20)" /api/v1/articles
run "GET /wp-json/wp/v2/posts (10)" /wp-json/wp/v2/posts
run "GET /api/v1/articles?tag=harbour" "/api/v1/articles?tag=harbour"
