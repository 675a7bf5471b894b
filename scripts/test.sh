#!/usr/bin/env bash
# The whole test suite, with coverage of scheduling/. DATABASE_URL picks the database (SQLite by default).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

exec python -m pytest -n "${PYTEST_WORKERS:-auto}" --cov=scheduling --cov-report=term-missing:skip-covered --cov-fail-under=90 "$@"
