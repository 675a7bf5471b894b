# Sourced by the scripts: create .venv with Python >= 3.11 if needed and install requirements.txt
# whenever it changed since the last install.
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required" >&2; exit 1; }
  "$PYTHON" -m venv .venv
fi
if ! cmp -s requirements.txt .venv/.requirements.installed; then
  # Some machines carry pip find-links to folders that do not exist; their warnings are noise.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2> >(grep -v "^WARNING: Location" >&2)
  cp requirements.txt .venv/.requirements.installed
fi
# shellcheck disable=SC1091
source .venv/bin/activate
