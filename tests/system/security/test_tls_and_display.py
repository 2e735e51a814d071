"""A bad CA bundle is one clear line, and what users see holds no credential (the TLS unit is in tests/client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic import ConfigurationError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.sandbox import Sandbox


@pytest.mark.parametrize("kind", ["missing", "directory", "not-pem"])
def test_bad_ca_bundle_is_one_clear_line(sb: Sandbox, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nope.pem"
    if kind == "directory":
        path = tmp_path
    elif kind == "not-pem":
        path.write_text("this is not a certificate\n")
    env = dict(sb.env(mode="oauth"), AUTOTASK_CA_BUNDLE=str(path))
    with pytest.raises(ConfigurationError) as info:
        AutotaskClient.from_env(env)
    text = str(info.value)
    assert ("\n" not in text and "AUTOTASK_CA_BUNDLE" in text) or "CA bundle" in text
    assert str(path) in text and "PEM" in text
    assert sb.client_secret not in text


@pytest.fixture
def ip(magic_shell: tuple[InteractiveShell, Any, list[Any]]) -> tuple[InteractiveShell, Any, list[Any]]:
    return magic_shell


def test_sandbox_login_dry_run_and_widget_show_no_credential(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell, magic, shown = ip
    shell.run_line_magic("autotask_login", "--sandbox --tickets 600")
    sb = magic.sandbox
    client_id = sb.client_id
    shell.run_line_magic("autotask", "query Tickets --limit 3 --dry-run")
    shell.run_line_magic("autotask", "GET /Companies/0 --dry-run")
    shell.run_line_magic("autotask_status", "")
    shell.run_line_magic("autotask", "query Tickets --limit 3")
    from autotask_magic.notebook import _widget

    panel = _widget.status_panel(magic.client.manager)
    states = []
    stack: list[Any] = [panel]
    while stack and len(states) < 500:
        w = stack.pop()
        states.append(repr(w.get_state()))
        stack += [c for c in getattr(w, "children", ()) if hasattr(c, "get_state")]
    captured = capsys.readouterr()
    blob = "\n".join(
        [
            *(str(x) for x in shown),
            *(getattr(x, "_repr_html_", lambda: "")() or "" for x in shown),
            *states,
            captured.out,
            captured.err,
        ]
    )
    assert "Bearer <redacted>" in blob or "redacted" in blob
    for secret in (sb.client_secret, sb.secret, sb.integration_code, client_id, sb.username, *sb.issued_tokens):
        assert secret not in blob
    _widget.close_all()
