#!/usr/bin/env bash
# The README's test command: installs system packages (Chromium), makes a fresh virtual environment,
# installs the package with its test extra, and runs pytest. Exits non-zero if any test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${AUTOTASK_VENV:-.venv}"

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
fi

rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"

export AUTOTASK_REQUIRE_BROWSER=1
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "no tests ran: failing" >&2
    exit 1
fi
exit "$status"
