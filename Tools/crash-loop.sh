#!/usr/bin/env bash
# Runs the ledger's SIGKILL crash test with many more kills than the default suite (20).
#   Tools/crash-loop.sh [KILLS]    (default 500)
# Builds the tests and the bench executable first; every kill is followed by a reopen that must reproduce the
# clean run's blocks, state and tx index at the recovered height.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-500}
swift build --build-tests
LEDGER_CRASH_KILLS="$kills" swift test --skip-build --filter "LedgerTests.CrashSafetyTests"
