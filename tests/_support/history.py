"""An IPython shell with a temp history database, and everything it remembers as one searchable string."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell


@contextlib.contextmanager
def history_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, scrub: str
) -> Iterator[tuple[InteractiveShell, Path]]:
    """The IPython singleton with a fresh HistoryManager writing to a temp sqlite file, extension loaded.

    On exit the old history manager comes back and any ``_i*`` variable holding ``scrub`` is deleted, so a
    secret a test typed does not linger in the process-wide shell.
    """
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
            if isinstance(ip.user_ns[key], str) and scrub in ip.user_ns[key]:
                del ip.user_ns[key]


def history_text(ip: InteractiveShell, db_file: Path) -> str:
    """Every place IPython keeps input history (memory, cache, ``_i*`` names, sqlite) as one searchable string."""
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


def run_logged_in(ip: InteractiveShell, sandbox: Any, cell: str, capsys: Any) -> tuple[Any, int, str]:
    """Log in to ``sandbox`` (OAuth), then run ``cell`` with history: (result, its history index, printed text).

    The sandbox's counters are reset after the login, so ``sandbox.stats`` tells what ``cell`` sent.
    """
    from autotask_magic.notebook import _magics

    magic = _magics.get_magic(ip)
    assert magic is not None
    magic._environ = sandbox.env("oauth")
    assert ip.run_cell("%autotask_login", store_history=True).success
    capsys.readouterr()
    sandbox.reset_stats()
    ip.run_cell("x_before = 1", store_history=True)
    n = ip.execution_count
    result = ip.run_cell(cell, store_history=True)
    out = capsys.readouterr()
    return result, n, out.out + out.err
