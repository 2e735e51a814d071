"""A raw request line carrying a credential is refused: one line, nothing sent, scrubbed from history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic import ConfigurationError
from autotask_magic.notebook import _magics
from autotask_magic.sandbox import Sandbox
from tests._support.history import history_shell, history_text, run_logged_in

TOKEN = "eyJhbGciOiJIUzI1NiJ9Zx9QwErTy7UiOp3AsDf"


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Path]]:
    """The IPython singleton with a fresh HistoryManager writing to a temp sqlite file."""
    with history_shell(tmp_path, monkeypatch, scrub=TOKEN) as pair:
        yield pair


CELLS = [
    f"%autotask GET /Companies/0?access_token={TOKEN}",
    f"%autotask GET /Companies/0?client_secret={TOKEN}",
    f"%autotask GET /Companies/0?x=1&secret={TOKEN} --raw",
    f"%autotask GET /Companies/0?password={TOKEN}",
    f"%autotask GET /Companies/0?access%5Ftoken={TOKEN}",
    f"%autotask GET /Companies/0 --dry-run Bearer {TOKEN}",
    f"x = %autotask GET /Companies/0?access_token={TOKEN}",
    f'%%autotask POST /Tickets?access_token={TOKEN}\n{{"title": "t"}}',
]


@pytest.mark.parametrize("cell", CELLS)
def test_credential_in_request_line_refused_nothing_sent_and_scrubbed(
    shell: tuple[InteractiveShell, Path], sandbox: Sandbox, capsys: Any, cell: str
) -> None:
    ip, db_file = shell
    result, n, text = run_logged_in(ip, sandbox, cell, capsys)
    assert not result.success
    assert isinstance(result.error_in_exec, ConfigurationError)
    assert "refuses a request line carrying a credential" in str(result.error_in_exec)
    assert TOKEN not in str(result.error_in_exec)
    assert sandbox.stats.api_requests == 0 and sandbox.stats.token_requests == 0  # nothing sent
    printed = [ln for ln in text.splitlines() if ln.strip()]
    assert len(printed) == 1 and printed[0].startswith("ConfigurationError: "), printed  # one line
    ip.run_cell("x_after = 2", store_history=True)
    blob = history_text(ip, db_file)
    assert TOKEN not in blob
    assert "x_before = 1" in blob and "x_after = 2" in blob
    assert "removed by autotask_magic" in ip.history_manager.input_hist_raw[n]


def test_ordinary_request_line_is_sent_and_kept(shell: tuple[InteractiveShell, Path], sandbox: Sandbox) -> None:
    ip, _ = shell
    magic = _magics.get_magic(ip)
    assert magic is not None
    magic._environ = sandbox.env("oauth")
    assert ip.run_cell("%autotask_login", store_history=True).success
    n = ip.execution_count
    result = ip.run_cell("%autotask GET /Companies/0 --raw", store_history=True)
    assert result.success, result.error_in_exec
    assert ip.history_manager.input_hist_raw[n] == "%autotask GET /Companies/0 --raw"
