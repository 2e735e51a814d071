"""Under ``%xmode Verbose`` a login refused on configuration shows no secret in any frame's locals.

Verbose tracebacks print the variables of every frame (``LoginPlan(env=...)``, ``make_client(env=...)``,
``Settings.from_env(env=...)``). Secrets are wrapped in ``Secret`` the moment they are read from the
environment or a prompt, so no frame holds one as a plain string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

SECRET = "Qv7pLm2XnB9sRt4YwK8cHd3J"
CODE = "IC9ZkP4mW2qL7vR3tY8bN5xA"
CLIENT_SECRET = "Cs5RmT8wQ2zX9pL4vN7bK3yH"
NEEDLES = (SECRET, CODE, CLIENT_SECRET)

API_USER = {
    "AUTOTASK_USERNAME": "api@example.com",
    "AUTOTASK_INTEGRATION_CODE": CODE,
    "AUTOTASK_SECRET": SECRET,
    "AUTOTASK_BASE_URL": "http://127.0.0.1:9/ATServicesRest/V1.0/",
}
OAUTH = {
    "AUTOTASK_CLIENT_ID": "client-id-123",
    "AUTOTASK_CLIENT_SECRET": CLIENT_SECRET,
    "AUTOTASK_TOKEN_URL": "http://127.0.0.1:9/ATServicesRest/oauth/token",
    "AUTOTASK_BASE_URL": "http://127.0.0.1:9/ATServicesRest/V1.0/",
}


@pytest.fixture
def verbose_shell(
    magic_shell: tuple[InteractiveShell, Any, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> tuple[InteractiveShell, list[str]]:
    """The shell in Verbose mode, its rendered tracebacks collected as text."""
    ip = magic_shell[0]
    rendered: list[str] = []

    def show(etype: Any, evalue: Any, stb: Any) -> None:
        rendered.append(ip.InteractiveTB.stb2text(stb))

    monkeypatch.setattr(ip, "_showtraceback", show)
    ip.run_line_magic("xmode", "Verbose")
    return ip, rendered


CASES = {
    "http-base-url-api-user": (API_USER, {"AUTOTASK_BASE_URL": "http://api.example.com/ATServicesRest/V1.0/"}),
    "http-base-url-oauth": (OAUTH, {"AUTOTASK_BASE_URL": "http://api.example.com/ATServicesRest/V1.0/"}),
    "http-token-url-oauth": (OAUTH, {"AUTOTASK_TOKEN_URL": "http://login.example.com/oauth/token"}),
    "ca-bundle-typo-api-user": (API_USER, {"AUTOTASK_CA_BUNDLE": "/nonexistent/ca-bundel.pem"}),
    "ca-bundle-typo-oauth": (OAUTH, {"AUTOTASK_CA_BUNDLE": "/nonexistent/ca-bundel.pem"}),
    "impersonation-not-numeric": (API_USER, {"AUTOTASK_IMPERSONATION_RESOURCE_ID": "abc"}),
    "both-modes-set": ({**API_USER, **OAUTH}, {}),
}


@pytest.mark.parametrize("how", ["%autotask_login", "%autotask GET /Companies/0"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_configuration_errors_under_verbose_show_no_secret(
    verbose_shell: tuple[InteractiveShell, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    how: str,
) -> None:
    ip, rendered = verbose_shell
    base, extra = CASES[case]
    for key, value in {**base, **extra}.items():
        monkeypatch.setenv(key, value)
    result = ip.run_cell(how, store_history=False)
    assert not result.success
    out = capsys.readouterr()
    text = "\n".join(rendered) + out.out + out.err
    assert rendered, "no traceback was rendered"
    assert "Traceback" in text or "Error" in text
    leaked = [n for n in NEEDLES if n in text]
    assert not leaked, f"{case}: a secret shows in the Verbose traceback"


def test_prompted_secret_under_verbose_shows_nowhere(
    verbose_shell: tuple[InteractiveShell, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    ip, rendered = verbose_shell
    from autotask_magic.notebook import _magics

    magic = _magics.get_magic(ip)
    assert magic is not None
    answers = {"Autotask API integration code (tracking identifier): ": CODE, "Autotask API secret: ": SECRET}
    monkeypatch.setattr(magic.seams, "getpass", lambda text: answers[text])
    monkeypatch.setattr(magic.seams, "can_prompt", lambda: True)
    monkeypatch.setenv("AUTOTASK_USERNAME", "api@example.com")
    monkeypatch.setenv("AUTOTASK_CA_BUNDLE", str(tmp_path / "missing.pem"))
    result = ip.run_cell("%autotask_login --mode api-user", store_history=False)
    assert not result.success
    out = capsys.readouterr()
    text = "\n".join(rendered) + out.out + out.err
    assert rendered and "AUTOTASK_CA_BUNDLE" in text
    assert not [n for n in NEEDLES if n in text]
