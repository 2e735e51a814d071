"""Secret-looking options on ``%autotask`` lines are refused without echoing and scrubbed from history,
like ``%autotask_login`` does; a login URL option with a fragment or credentials in it is refused too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook import _magics
from autotask_magic.sandbox import Sandbox
from tests._support.history import history_shell, history_text, run_logged_in

V = "Tk7mQ2xW9pL4vR8nB3yZ6cHd"  # secret-looking: mixed case, digits, 24 characters


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Path]]:
    with history_shell(tmp_path, monkeypatch, scrub=V) as pair:
        yield pair


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=20, seed=5) as sb:
        yield sb


CELLS = [
    f"%autotask GET /Companies/0 --secret {V}",
    f"%autotask GET /Companies/0 --secret={V}",
    f"%autotask GET /Companies/0 --token {V}",
    f"%autotask GET /Companies/0 --password {V}",
    f"%autotask GET /Companies/0 --header Secret {V}",
    f"%autotask GET /Companies/0 --header 'Authorization: Bearer {V}'",
    f"%autotask GET /Companies/0 {V}",  # a secret-looking extra word
    f"%autotask GET /Companies/0 --raw {V}",
    f"%autotask query Tickets --limit 1 --token {V}",
    f"%autotask query Tickets --api-key={V} where id > 0",
    f'%%autotask POST /Tickets --secret {V}\n{{"title": "t"}}',
    f"%autotask fields Tickets --secret {V}",
]


@pytest.mark.parametrize("cell", CELLS)
def test_secret_option_refused_without_echo_and_scrubbed(
    shell: tuple[InteractiveShell, Path], sandbox: Sandbox, capsys: Any, cell: str
) -> None:
    ip, db_file = shell
    result, n, text = run_logged_in(ip, sandbox, cell, capsys)
    assert not result.success
    assert V not in text + str(result.error_in_exec)
    assert "removed from IPython history" in str(result.error_in_exec)
    assert sandbox.stats.api_requests == 0
    ip.run_cell("x_after = 2", store_history=True)
    assert V not in history_text(ip, db_file)
    assert "removed by autotask_magic" in ip.history_manager.input_hist_raw[n]


@pytest.mark.parametrize(
    "line",
    [
        f"--token-url https://h.example/x#client_secret={V}",
        f"--token-url=https://h.example/x#{V}",
        f"--base-url https://h.example/ATServicesRest/V1.0/#secret={V}",
        f"--zone-url https://me:{V}@h.example/zoneInformation",
    ],
)
def test_login_url_with_fragment_or_credentials_refused_and_scrubbed(
    shell: tuple[InteractiveShell, Path], capsys: Any, line: str
) -> None:
    ip, db_file = shell
    n = ip.execution_count
    result = ip.run_cell(f"%autotask_login --no-check {line}", store_history=True)
    assert not result.success
    out = capsys.readouterr()
    assert V not in out.out + out.err + str(result.error_in_exec)
    ip.run_cell("x_after = 2", store_history=True)
    assert V not in history_text(ip, db_file)
    assert "removed by autotask_magic" in ip.history_manager.input_hist_raw[n]


def test_ordinary_lines_still_work(shell: tuple[InteractiveShell, Path], sandbox: Sandbox) -> None:
    ip, db_file = shell
    magic = _magics.get_magic(ip)
    assert magic is not None
    magic._environ = sandbox.env("oauth")
    assert ip.run_cell("%autotask_login", store_history=True).success
    assert ip.run_cell("%autotask GET /Companies/0 --raw", store_history=True).success
    assert ip.run_cell("%autotask query Tickets --limit 2 where title != 'Xy7AbCdEfGh12345678Zz9'").success
    assert "GET /Companies/0 --raw" in history_text(ip, db_file)
