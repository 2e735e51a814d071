#!/usr/bin/env bash
# The README's test command. On a fresh Debian machine it:
#   1. installs Debian's Chromium (the browser tests drive it through Playwright; never a downloaded browser)
#      and, when `python3 -m venv` cannot work, Debian's python3-venv,
#   2. makes a fresh virtual environment, installs the package with its test extra, runs the static checks
#      (ruff, mypy, import-linter) and pytest over tests/ (all of it, slow tests included),
#   3. makes a second fresh environment from binder/requirements.txt (what Binder installs) and executes
#      every notebook in it against the sandbox (tests/system/notebooks).
# It exits non-zero if any check or test fails or if no test ran. Arguments go to pytest.
#
# Fast path for one folder while developing (CONTRIBUTING.md):
#     bash .ci/test.sh --fast tests/client -x
# reuses the test environment when it exists (creates it only when missing; reinstalls into it only when
# pyproject.toml changed), installs no Chromium, skips the static checks and the Binder environment, and
# runs pytest with your arguments only (browser tests skip when Chromium is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${AUTOTASK_VENV:-.venv-test}"
BINDER_VENV="${AUTOTASK_BINDER_VENV:-.venv-binder}"
PY="${PYTHON:-python3}"
FAST=0
if [ "${1:-}" = "--fast" ]; then
    FAST=1
    shift
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Debian ships venv's ensurepip in a separate package: without it `python3 -m venv` fails half-way.
ensure_venv_module() {
    if "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then return; fi
    local version
    version="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    echo "== installing Debian's python3-venv (python$version-venv)"
    apt_install python3-venv || true
    "$PY" -c "import ensurepip, venv" >/dev/null 2>&1 || apt_install "python$version-venv"
}

# The test extra installed into $VENV; the stamp records which pyproject.toml it was installed from.
STAMP="$VENV/.autotask-test-extra"
install_test_extra() {
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    sha256sum pyproject.toml >"$STAMP"
}

if [ "$FAST" = 1 ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== test environment ($VENV): missing, creating it once"
        ensure_venv_module
        "$PY" -m venv "$VENV"
        install_test_extra
    elif ! sha256sum --check --status "$STAMP" 2>/dev/null; then
        echo "== test environment ($VENV): pyproject.toml changed, reinstalling the test extra into it"
        install_test_extra
    else
        echo "== test environment ($VENV): reused"
    fi
    echo "== fast path: pytest $* (no Chromium install, static checks or Binder notebooks)"
    status=0
    "$VENV/bin/python" -m pytest "$@" || status=$?
    if [ "$status" = 5 ]; then echo "no tests ran: failing" >&2; exit 1; fi
    exit "$status"
fi

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium"
    apt_install chromium
fi
ensure_venv_module

echo "== test environment ($VENV)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
install_test_extra

echo "== static checks: ruff (lint + format), mypy, import-linter layer contracts"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
"$VENV/bin/lint-imports"

# The browser tests must fail, not skip, when Chromium or Playwright is missing.
export AUTOTASK_REQUIRE_BROWSER=1
# The notebooks run in the Binder environment below, not twice.
status=0
"$VENV/bin/python" -m pytest --ignore=tests/system/notebooks "$@" || status=$?

echo "== Binder environment ($BINDER_VENV): binder/requirements.txt, then every notebook"
rm -rf "$BINDER_VENV"
"$PY" -m venv "$BINDER_VENV"
"$BINDER_VENV/bin/python" -m pip install -q --upgrade pip
"$BINDER_VENV/bin/python" -m pip install -q -r binder/requirements.txt pytest pytest-timeout nbclient nbformat
nb_status=0
"$BINDER_VENV/bin/python" -m pytest -p no:cacheprovider tests/system/notebooks || nb_status=$?

for s in "$status" "$nb_status"; do
    if [ "$s" = 5 ]; then echo "no tests ran: failing" >&2; exit 1; fi
    if [ "$s" != 0 ]; then exit "$s"; fi
done
