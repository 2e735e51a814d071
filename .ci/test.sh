#!/usr/bin/env bash
# The README's test command. On a fresh Debian machine it:
#   1. installs Debian's Chromium (the browser tests drive it through Playwright; never a downloaded browser),
#   2. makes a fresh virtual environment, installs the package with its test extra and runs pytest,
#   3. makes a second fresh environment from binder/requirements.txt (what Binder installs) and executes
#      every notebook in it against the sandbox.
# It exits non-zero if any test fails or if no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${AUTOTASK_VENV:-.venv-test}"
BINDER_VENV="${AUTOTASK_BINDER_VENV:-.venv-binder}"
PY="${PYTHON:-python3}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "== test environment ($VENV)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"

echo "== static checks: ruff (lint + format), mypy, import-linter layer contracts"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
"$VENV/bin/lint-imports"

# The browser tests must fail, not skip, when Chromium or Playwright is missing.
export AUTOTASK_REQUIRE_BROWSER=1
# The notebooks run in the Binder environment below, not twice.
status=0
"$VENV/bin/python" -m pytest --ignore=tests/notebooks "$@" || status=$?

echo "== Binder environment ($BINDER_VENV): binder/requirements.txt, then every notebook"
rm -rf "$BINDER_VENV"
"$PY" -m venv "$BINDER_VENV"
"$BINDER_VENV/bin/python" -m pip install -q --upgrade pip
"$BINDER_VENV/bin/python" -m pip install -q -r binder/requirements.txt pytest pytest-timeout nbclient nbformat
nb_status=0
"$BINDER_VENV/bin/python" -m pytest -p no:cacheprovider tests/notebooks || nb_status=$?

for s in "$status" "$nb_status"; do
    if [ "$s" = 5 ]; then echo "no tests ran: failing" >&2; exit 1; fi
    if [ "$s" != 0 ]; then exit "$s"; fi
done
