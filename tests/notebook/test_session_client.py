"""``autotask_magic.session_client()``: the magic's logged-in client for the Python API (issue 14, point 27).

A real ``InteractiveShell`` and a real sandbox: the client it returns is the one the magics use (same
token, same request budget), and every way of not having one is a one-line ``ConfigurationError``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import autotask_magic
from autotask_magic import AutotaskClient, ConfigurationError
from tests._support.shell import run


def test_after_login_sandbox_it_is_the_magics_client(ip: Any, magic: Any) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 60").success
    client = autotask_magic.session_client()
    assert isinstance(client, AutotaskClient)
    assert client is magic.client
    assert client.count("Tickets") == 60
    # One session: the magic's next pull uses the token this client already has.
    tokens = magic.sandbox.stats.token_requests
    result = run(ip, "%autotask query Tickets --count")
    assert result.success and result.result == 60
    assert magic.sandbox.stats.token_requests == tokens


def test_user_code_in_the_shell_reaches_it(ip: Any, magic: Any) -> None:
    """What a notebook cell does: import it and call it in the kernel's namespace."""
    assert run(ip, "%autotask_login --sandbox --tickets 40").success
    result = run(ip, "from autotask_magic import session_client\nsession_client().count('Tickets')")
    assert result.success, result.error_in_exec
    assert result.result == 40


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


def test_not_logged_in_is_one_line(ip: Any, magic: Any) -> None:
    with pytest.raises(ConfigurationError) as err:
        autotask_magic.session_client()
    text = _one_line(err.value)
    assert "not logged in" in text and "%autotask_login" in text


def test_after_logout_it_refuses(ip: Any, magic: Any) -> None:
    assert run(ip, "%autotask_login --sandbox --tickets 10").success
    assert autotask_magic.session_client() is magic.client
    assert run(ip, "%autotask_logout").success
    with pytest.raises(ConfigurationError, match="not logged in"):
        autotask_magic.session_client()


def test_extension_not_loaded_says_load_ext(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "autotask_magic")
    try:
        with pytest.raises(ConfigurationError) as err:
            autotask_magic.session_client()
        assert "%load_ext autotask_magic" in _one_line(err.value)
    finally:
        ip.run_line_magic("load_ext", "autotask_magic")


def test_outside_ipython_points_to_from_env() -> None:
    code = (
        "import autotask_magic\n"
        "try:\n    autotask_magic.session_client()\n"
        "except autotask_magic.ConfigurationError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.count("\n") == 1, out.stdout
    assert "not running in IPython" in out.stdout and "AutotaskClient.from_env()" in out.stdout
