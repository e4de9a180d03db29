#!/usr/bin/env bash
# WordPress import throughput: a generated WXR of POSTS posts and COMMENTS comments
# (crates/server/examples/wxr_generate.rs) imported into a new SQLite site by a
# release build, timed and measured with /usr/bin/time -v (wall time, peak RSS).
# Then the same import again, which must change nothing.
#
#   bench/import.sh
#
# Knobs: POSTS (default 10000), COMMENTS (100000), BIN (a release binary to measure
# instead of building this tree).
set -euo pipefail
cd "$(dirname "$0")/.."

POSTS=${POSTS:-10000}
COMMENTS=${COMMENTS:-100000}
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release --quiet -p broadsheet --bin broadsheet --example wxr_generate
BIN=${BIN:-$TARGET/release/broadsheet}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$TARGET/release/examples/wxr_generate" "$WORK/site.xml" "$POSTS" "$COMMENTS"
SIZE_MB=$(( $(stat -c %s "$WORK/site.xml") / 1024 / 1024 ))

measure() {
  local label=$1
  /usr/bin/time -v "$BIN" --data-dir "$WORK/data" import wordpress "$WORK/site.xml" \
    > "$WORK/$label.out" 2> "$WORK/$label.time"
  local secs rss cpu
  cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f", s}' "$WORK/$label.time")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$WORK/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/$label.time")
  printf '| %-14s | %9s s | %8s s | %10s | %7s MB |\n' "$label" "$secs" "$cpu" \
    "$(awk -v p="$POSTS" -v s="$secs" 'BEGIN { printf "%.0f", p / s }')" "$rss"
}

echo "WordPress import, SQLite, $POSTS posts + $COMMENTS comments (${SIZE_MB} MB of WXR), $(nproc) cores"
printf '| %-14s | %11s | %10s | %10s | %10s |\n' run "wall time" "CPU time" "posts/s" "peak RSS"
printf '|%s|%s|%s|%s|%s|\n' ---------------- ------------- ------------ ------------ ------------
echo "(load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
measure "first import"
measure "second (no-op)"
echo
head -n 3 "$WORK/first import.out"
grep -q '^imported: nothing' "$WORK/second (no-op).out" || { echo "the second run imported something:"; cat "$WORK/second (no-op).out"; exit 1; }
