#!/usr/bin/env bash
# What one password hash costs: argon2id at the parameters crates/server/src/password.rs
# uses, hashed and verified ROUNDS times by a release build (every sign-in pays one
# verify; the aim is 50-100 ms on the project's 2-core machine).
#
#   bench/argon2.sh            # ROUNDS=20 by default
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p broadsheet --example argon2_cost -- "${ROUNDS:-20}"
