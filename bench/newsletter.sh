#!/usr/bin/env bash
# Newsletter throughput: the time to queue and send a publish notification to
# SUBSCRIBERS confirmed subscribers through a local SMTP server (PyPI's aiosmtpd, the
# tests' sink, counting messages), with one job worker on SQLite, release build.
#
#   bench/newsletter.sh
#
# Knobs: SUBSCRIBERS (default 10000), PORT (18300).
set -euo pipefail
cd "$(dirname "$0")/.."

SUBSCRIBERS=${SUBSCRIBERS:-10000}
PORT=${PORT:-18300}

python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install -q aiosmtpd
cargo build --release --quiet -p broadsheet --example newsletter_bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/newsletter_bench

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 crates/server/tests/it/fixtures/smtp_sink.py --quiet --dir "$WORK/mail" --port "$PORT" \
  > "$WORK/sink.out" &
for _ in $(seq 1 50); do grep -q listening "$WORK/sink.out" 2>/dev/null && break; sleep 0.1; done

"$BIN" "$PORT" "$SUBSCRIBERS"
received=$(find "$WORK/mail" -name '*.json' | wc -l)
echo "the SMTP server received $received emails"
[ "$received" -eq "$SUBSCRIBERS" ]
