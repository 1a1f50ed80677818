#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, then runs format and lint
# checks, every crate's tests, and the real-peer interop tests. Safe to run on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== PostgreSQL for the store tests"
TETHER_TEST_POSTGRES_URL=$(scripts/postgres-test-server.sh)
export TETHER_TEST_POSTGRES_URL
echo "$TETHER_TEST_POSTGRES_URL"
echo "== cargo test"
cargo test --workspace --no-fail-fast
if [ -x scripts/sipp-interop.sh ]; then
  echo "== SIPp interop"
  scripts/sipp-interop.sh
fi
