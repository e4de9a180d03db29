#!/usr/bin/env bash
# Admin pages' latency: the dashboard (/admin) and, when the build has it, the articles
# list (/admin/articles), for a signed-in admin, on a SQLite site with 1,000 articles
# and 30 days of reader activity, served by a release build and measured with wrk.
#
# The articles go in through the CLI (`article publish`), the admin through
# `user add`, and the session through the login form, as a newsroom would do it. The
# 30 days of activity are written straight into the per-day and per-article counters
# (a script here, python3's sqlite3): the public endpoints only ever count today, and
# what the pages read is those counters, whoever wrote them.
#
#   bench/admin-pages.sh
#
# Each page is measured with one connection (a newsroom's latency) and with 16 at once
# (a busy newsroom on two cores).
#
# Knobs: ARTICLES (default 1000), DURATION (15s), CONNECTIONS ("1 16"),
# PORT (18100), BIN (a release binary to measure instead of building this tree).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-1000}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-1 16}
PORT=${PORT:-18100}
PASSWORD="bench-password-$RANDOM-$RANDOM"

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

BROADSHEET_PASSWORD="$PASSWORD" "$BIN" --data-dir "$DATA" user add \
  --name "Bench Admin" --email bench@example.org --role admin >/dev/null

# ARTICLES articles over the last 60 days, two tags each, ~150 words.
python3 - "$WORK/articles" "$ARTICLES" <<'PY'
import datetime, sys
folder, count = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc)
words = "The council met late on Tuesday to weigh the cost of the new harbour bridge. " * 10
for i in range(count):
    at = now - datetime.timedelta(minutes=90 * (count - i))
    with open(f"{folder}/a{i:05}.md", "w") as f:
        f.write(f"---\ntitle: \"Bench story number {i}\"\nslug: bench-{i}\n"
                f"tags: [Tag {i % 20}, Harbour]\ndate: {at:%Y-%m-%d %H:%M}\n"
                f"---\n\n{words}\n")
PY
start=$(date +%s)
find "$WORK/articles" -name '*.md' -print0 |
  xargs -0 -P 2 -I{} "$BIN" --data-dir "$DATA" article publish --author bench@example.org {} >/dev/null
echo "published $ARTICLES articles in $(( $(date +%s) - start ))s"

# 30 days of activity: views, votes and reactions on every article every day, more on
# newer ones; each article's counters hold its 30 days' sums.
python3 - "$DATA/broadsheet.sqlite3" <<'PY'
import datetime, random, sqlite3, sys
random.seed(5)
db = sqlite3.connect(sys.argv[1])
ids = [r[0] for r in db.execute("SELECT id FROM articles WHERE kind = 'article' ORDER BY id")]
today = datetime.datetime.now(datetime.timezone.utc).date()
keys = ["happy", "sad", "excited", "sleepy", "angry", "surprise"]
for rank, article in enumerate(ids):
    weight = 1 + 50 * rank // len(ids)
    total = {"views": 0, "likes": 0, "dislikes": 0}
    reactions = dict.fromkeys(keys, 0)
    for back in range(30):
        day = (today - datetime.timedelta(days=back)).isoformat()
        views = random.randint(0, 20 * weight)
        likes, dislikes = random.randint(0, views // 5), random.randint(0, views // 20)
        mix = [random.randint(0, views // 10) for _ in keys]
        db.execute("INSERT INTO daily_counters (day, article_id, views, votes, reactions, ratings) "
                   "VALUES (?, ?, ?, ?, ?, 0)", (day, article, views, likes + dislikes, sum(mix)))
        total["views"] += views; total["likes"] += likes; total["dislikes"] += dislikes
        for key, n in zip(keys, mix):
            reactions[key] += n
    db.execute("INSERT INTO article_counters (article_id, views, likes, dislikes) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (article_id) DO UPDATE SET views = excluded.views, "
               "likes = excluded.likes, dislikes = excluded.dislikes",
               (article, total["views"], total["likes"], total["dislikes"]))
    db.executemany("INSERT INTO article_reaction_counts (article_id, reaction_key, count) VALUES (?, ?, ?)",
                   [(article, k, n) for k, n in reactions.items()])
db.commit()
print(f"seeded 30 days of activity for {len(ids)} articles")
PY

BROADSHEET_LOG=warn "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" &
for _ in $(seq 1 100); do curl -fs "$URL/" >/dev/null && break; sleep 0.1; done

# Sign in through the login form; the session cookie is what wrk sends.
curl -fs -o /dev/null -c "$WORK/jar" \
  --data-urlencode email=bench@example.org --data-urlencode "password=$PASSWORD" \
  "$URL/admin/login"
SESSION=$(awk '$6 == "broadsheet_session" {print $7}' "$WORK/jar")
[[ -n "$SESSION" ]] || { echo "login failed: no session cookie" >&2; exit 1; }
COOKIE="Cookie: broadsheet_session=$SESSION"

echo "admin pages, signed-in admin, SQLite, $ARTICLES articles, 30 days of activity,"
echo "wrk -d$DURATION, $(nproc) cores"
printf '| %-16s | %5s | %10s | %8s | %8s | %6s |\n' page conns "req/s" p50 p99 KB
printf '|%s|%s|%s|%s|%s|%s|\n' ------------------ ------- ------------ ---------- ---------- --------
for path in /admin /admin/articles; do
  status=$(curl -s -o "$WORK/page.html" -w '%{http_code}' -H "$COOKIE" "$URL$path")
  if [[ "$status" != 200 ]]; then
    printf '| %-16s | %5s | %10s | %8s | %8s | %6s |\n' "$path" - "($status)" - - -
    continue
  fi
  kb=$(( $(stat -c %s "$WORK/page.html") / 1024 ))
  wrk -t2 -c4 -d2s -H "$COOKIE" "$URL$path" >/dev/null # warm-up
  for conns in $CONNECTIONS; do
    threads=$(( conns > 1 ? 2 : 1 ))
    wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -H "$COOKIE" "$URL$path" > "$WORK/run.wrk"
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/run.wrk")
    p50=$(awk '$1=="50%" {print $2}' "$WORK/run.wrk")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/run.wrk")
    errors=$(awk '/Non-2xx or 3xx/ {print $5}' "$WORK/run.wrk")
    [[ -z "$errors" ]] || { echo "$path: $errors non-2xx answers" >&2; exit 1; }
    printf '| %-16s | %5s | %10s | %8s | %8s | %6s |\n' "$path" "$conns" "$rps" "$p50" "$p99" "$kb"
  done
done
