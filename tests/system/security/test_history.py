"""A login line refused for carrying a secret is scrubbed from IPython history: memory, cache and sqlite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from tests._support.history import history_shell, history_text

SECRET = "Zx9QwErTy7UiOp3AsDfGhJkL"  # secret-looking: mixed case, digits, 24 chars


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Path]]:
    """The IPython singleton with a fresh HistoryManager writing to a temp sqlite file."""
    with history_shell(tmp_path, monkeypatch, scrub=SECRET) as pair:
        yield pair


LINES = [
    f"--client-secret {SECRET}",
    f"--client-secret={SECRET}",
    f"--secret {SECRET} --username me@example.com",
    f"--client-id {SECRET}",  # a secret pasted into an identifier option
    f"{SECRET}",  # positional
    f"--password={SECRET}",
    f"--api-token {SECRET}",
    f"--pass={SECRET}",  # unknown option: its value may be a secret
    f"--base-url https://h.example/?client_secret={SECRET}",
    f'--client-secret "{SECRET}',  # unbalanced quote
]


@pytest.mark.parametrize("persisted", [False, True], ids=["in-cache", "already-in-db"])
@pytest.mark.parametrize("line", LINES)
def test_refused_secret_line_scrubbed_everywhere(
    shell: tuple[InteractiveShell, Path], monkeypatch: pytest.MonkeyPatch, line: str, persisted: bool
) -> None:
    ip, db_file = shell
    hm = ip.history_manager
    if persisted:
        # As if the history thread had written the cell before the magic ran.
        original = hm.store_inputs

        def store_and_write(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)
            hm.writeout_cache()

        monkeypatch.setattr(hm, "store_inputs", store_and_write)
    else:
        hm.db_cache_size = 1000  # stays in the write cache until the end
    ip.run_cell("x_before = 1", store_history=True)
    n = ip.execution_count
    result = ip.run_cell(f"%autotask_login {line}", store_history=True)
    assert not result.success
    ip.run_cell("x_after = 2", store_history=True)
    blob = history_text(ip, db_file)
    assert SECRET not in blob
    # The refused line is replaced, not dropped: numbering stays aligned and the other cells are kept.
    assert "x_before = 1" in blob and "x_after = 2" in blob
    assert "removed by autotask_magic" in hm.input_hist_raw[n]
    assert ip.user_ns[f"_i{n}"] == hm.input_hist_raw[n]


def test_ordinary_failed_login_line_is_kept(shell: tuple[InteractiveShell, Path]) -> None:
    ip, db_file = shell
    n = ip.execution_count
    result = ip.run_cell("%autotask_login --base-url http://evil.example/ATServicesRest/", store_history=True)
    assert not result.success
    assert ip.history_manager.input_hist_raw[n] == "%autotask_login --base-url http://evil.example/ATServicesRest/"
