#!/usr/bin/env bash
# A longer crash-safety run than the test suite's 200 rounds: kills the writer with SIGKILL
# ROUNDS times (default 5000) and checks the database after each.
set -euo pipefail
cd "$(dirname "$0")/.."
VARN_CRASH_ROUNDS="${1:-5000}" cargo test --release --test crash -- --nocapture saves_survive_sigkill_at_random_moments
