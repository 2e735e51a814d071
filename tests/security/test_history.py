"""A login line refused for carrying a secret is scrubbed from IPython history: memory, cache and sqlite."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell

SECRET = "Zx9QwErTy7UiOp3AsDfGhJkL"  # secret-looking: mixed case, digits, 24 chars


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Path]]:
    """The IPython singleton with a fresh HistoryManager writing to a temp sqlite file."""
    for name in list(os.environ):
        if name.startswith("AUTOTASK_"):
            monkeypatch.delenv(name)
    ip = InteractiveShell.instance()
    old_hm, old_in, old_ih = ip.history_manager, ip.user_ns.get("In"), ip.user_ns.get("_ih")
    old_count = ip.execution_count
    db_file = tmp_path / "history.sqlite"
    hm = HistoryManager(shell=ip, parent=ip, hist_file=str(db_file), enabled=True)
    ip.history_manager = hm
    ip.user_ns["In"] = ip.user_ns["_ih"] = hm.input_hist_parsed
    ip.execution_count = 1
    ip.run_line_magic("load_ext", "autotask_magic")
    try:
        yield ip, db_file
    finally:
        ip.run_line_magic("unload_ext", "autotask_magic")
        if hm.save_thread is not None:
            hm.save_thread.stop()
        hm.end_session()
        if hm.db is not None:
            hm.db.close()
        ip.history_manager = old_hm
        ip.user_ns["In"], ip.user_ns["_ih"] = old_in, old_ih
        ip.execution_count = old_count
        for key in [k for k in ip.user_ns if k.startswith("_i")]:
            if isinstance(ip.user_ns[key], str) and SECRET in ip.user_ns[key]:
                del ip.user_ns[key]


def _everything(ip: InteractiveShell, db_file: Path) -> str:
    hm = ip.history_manager
    hm.writeout_cache()
    parts: list[Any] = [hm.input_hist_raw, hm.input_hist_parsed, hm.db_input_cache]
    parts += [getattr(hm, n, "") for n in ("_i00", "_i", "_ii", "_iii")]
    parts += [v for k, v in ip.user_ns.items() if k.startswith("_i") or k in ("In", "_ih")]
    conn = sqlite3.connect(db_file)
    try:
        parts += conn.execute("SELECT source, source_raw FROM history").fetchall()
    finally:
        conn.close()
    return repr(parts)


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
    f"--client-secret \"{SECRET}",  # unbalanced quote
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
    blob = _everything(ip, db_file)
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
