#!/usr/bin/env bash
# Quick start: virtualenv, dependencies, database, demo data (once), a login, and the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

export DEBUG="${DEBUG:-true}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
python manage.py migrate --noinput
python manage.py seed_demo --if-empty
python manage.py quickstart_login --url "http://$HOST:$PORT/admin/"
echo "  API docs:    http://$HOST:$PORT/api/docs/"
echo
exec python manage.py runserver "$HOST:$PORT"
