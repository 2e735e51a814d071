"""Leak scan: secrets and every issued token are absent from notebooks, history, logs, tracebacks, dry runs."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook import _magics
from autotask_magic.sandbox import Sandbox
from tests._support.tally import Tally

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _needles(sb: Sandbox, extra: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    return [sb.client_secret, sb.secret, sb.integration_code, *sb.issued_tokens, *extra]


def _scan(name: str, blob: str | bytes, needles: list[str], tally: Tally) -> list[str]:
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    tally.add("artefacts scanned")
    hits = [f"{name}: {n[:6]}…" for n in needles if n and n in text]
    tally.add("leaks found", len(hits))
    return hits


def test_notebooks_and_their_kernel_history(
    sbx: Any, tally: Tally, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every notebook in notebooks/ (whatever exists now), run with the sandbox's credentials set."""
    import nbformat
    from nbclient import NotebookClient

    sb: Sandbox = sbx(tickets=2000)  # seed 1: the same credentials as a notebook's %autotask_login --sandbox
    for k, v in sb.env("oauth").items():
        monkeypatch.setenv(k, v)
    ipdir = tmp_path / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(ipdir))
    tokens_file = tmp_path / "kernel_tokens.txt"
    hits: list[str] = []
    executed = 0
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            # Tokens a kernel-side sandbox issued: collected off the record (not added to the notebook).
            probe = nbformat.v4.new_code_cell(
                "from autotask_magic.notebook import _magics as _m\n"
                "_s = getattr(_m.get_magic(get_ipython()), '_sandbox', None)\n"
                f"open({str(tokens_file)!r}, 'a').write('\\n'.join(getattr(_s, 'issued_tokens', [])) + '\\n')"
            )
            nb.cells.append(probe)
            try:
                client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
            finally:
                nb.cells.pop()
        out = tmp_path / path.name
        nbformat.write(nb, out)
        executed += 1
        kernel_tokens = [t for t in tokens_file.read_text().split() if t] if tokens_file.exists() else []
        hits += _scan(out.name, out.read_bytes(), _needles(sb, kernel_tokens), tally)
    tally.add("notebooks executed", executed)
    kernel_tokens = [t for t in tokens_file.read_text().split() if t] if tokens_file.exists() else []
    tally.add("secrets searched", len(_needles(sb, kernel_tokens)))
    for db in ipdir.rglob("*.sqlite"):
        hits += _scan(str(db.name), db.read_bytes(), _needles(sb, kernel_tokens), tally)
    assert not hits, hits


def test_magic_session_history_logs_tracebacks_and_dry_runs(
    sbx: Any,
    tally: Tally,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sb: Sandbox = sbx(tickets=1200, token_ttl=2.0)
    for k in list(os.environ):
        if k.startswith("AUTOTASK_"):
            monkeypatch.delenv(k)
    for k, v in sb.env("oauth").items():
        monkeypatch.setenv(k, v)
    ip = InteractiveShell.instance()
    saved_hm = ip.history_manager
    hist = tmp_path / "history.sqlite"
    hm = HistoryManager(shell=ip, parent=ip, hist_file=str(hist))
    ip.history_manager = hm
    shown: list[Any] = []
    caplog.set_level(logging.DEBUG)
    ip.run_line_magic("load_ext", "autotask_magic")
    try:
        magic = _magics.get_magic(ip)
        assert magic is not None
        magic.progress = "text"
        magic._display = shown.append
        cells = [
            "%autotask_login",
            "df = %autotask query Tickets --labels",
            "%%autotask query Tickets --fields id,title,status -o open\nstatus != 5 and priority in (1, 2)",
            "%autotask GET /Companies/0",
            "%autotask query Tickets --count",
            '%%autotask POST /Tickets --dry-run\n{"title": "x", "companyID": 0}',
            "%autotask query Tickets --dry-run where status = 1",
            "%autotask GET /Tickets/1 --dry-run",
            "%autotask_status",
            "%xmode Verbose",
            "%autotask GET /Tickets/999999999",  # 404
            "%autotask query Tickets where statuss = 1",  # validation error
            '%%autotask POST /Tickets\n{"title": "missing fields"}',  # server 500 list
            "import time; time.sleep(2.1)",  # let the 2 s token expire, then refresh during a pull
            "df2 = %autotask query Tickets",
            "%autotask_last_error",
        ]
        for code in cells:
            ip.run_cell(code, store_history=True)
        # A failing login under Verbose: the wrong secret must not show in the traceback's locals.
        monkeypatch.setenv("AUTOTASK_CLIENT_SECRET", "wrong-" + sb.client_secret[::-1])
        for code in ("%autotask_logout", "%autotask_login", "%autotask_last_error", "%xmode Context"):
            ip.run_cell(code, store_history=True)
        # Configuration errors under Verbose: every frame's locals are printed (LoginPlan, env dicts).
        ip.run_cell("%xmode Verbose", store_history=True)
        monkeypatch.setenv("AUTOTASK_CLIENT_SECRET", sb.client_secret)
        for name, value in (
            ("AUTOTASK_CA_BUNDLE", str(tmp_path / "ca-bundel.pem")),  # a typo
            ("AUTOTASK_BASE_URL", "http://api.example.com/ATServicesRest/V1.0/"),  # http:// to a remote host
        ):
            monkeypatch.setenv(name, value)
            for code in ("%autotask_logout", "%autotask_login", "%autotask GET /Companies/0", "%autotask_last_error"):
                ip.run_cell(code, store_history=True)
            monkeypatch.delenv(name)
        for k, v in sb.env("api_user").items():  # an API user whose impersonation id is not a number
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("AUTOTASK_MODE", "api_user")
        monkeypatch.setenv("AUTOTASK_IMPERSONATION_RESOURCE_ID", "not-a-number")
        for code in ("%autotask_logout", "%autotask_login", "%autotask GET /Companies/0"):
            ip.run_cell(code, store_history=True)
        for k in [*sb.env("api_user"), "AUTOTASK_MODE", "AUTOTASK_IMPERSONATION_RESOURCE_ID"]:
            monkeypatch.delenv(k)
        for k, v in sb.env("oauth").items():
            monkeypatch.setenv(k, v)
        # Verbose traceback of a failing call made from plain Python, locals and all.
        ip.run_cell(
            "from autotask_magic import AutotaskClient\n"
            "c = AutotaskClient.from_env()\n"
            "c.manager.refresh(); c.request('GET', 'Tickets/999999999')",
            store_history=True,
        )
        ip.run_cell("%xmode Context", store_history=True)
        hm.writeout_cache()
        assert sb.stats.token_requests >= 2  # a refresh happened during the session
        captured = capsys.readouterr()
        needles = _needles(sb) + ["wrong-" + sb.client_secret[::-1]]
        tally.add("secrets searched", len(needles))
        hits: list[str] = []
        hits += _scan("stdout/stderr (incl. Verbose tracebacks)", captured.out + captured.err, needles, tally)
        hits += _scan("displayed objects (incl. dry runs)", "\n".join(repr(x) + str(x) for x in shown), needles, tally)
        stack_logs = [r for r in caplog.records if r.name.startswith(("httpcore", "httpx"))]
        assert stack_logs, "no httpx/httpcore DEBUG log was captured"
        tally.add("httpx/httpcore DEBUG records scanned", len(stack_logs))
        assert "Traceback" in captured.out + captured.err  # the Verbose tracebacks were rendered
        hits += _scan(
            "DEBUG logs (the package's, httpx's and httpcore's)",
            "\n".join(r.getMessage() + str(r.args) + str(r.exc_text) for r in caplog.records),
            needles,
            tally,
        )
        hits += _scan("last error", repr(magic.last_error) + str(getattr(magic, "_last_error_tb", "")), needles, tally)
        hits += _scan("history.sqlite bytes", hist.read_bytes(), needles, tally)
        with sqlite3.connect(hist) as db:
            rows = db.execute("SELECT source, source_raw FROM history").fetchall()
            outs = db.execute("SELECT output FROM output_history").fetchall() if _has(db, "output_history") else []
        assert rows, "the history database recorded nothing"
        hits += _scan("history rows", repr(rows) + repr(outs), needles, tally)
        hits += _scan(
            "user namespace reprs",
            "\n".join(repr(v) for k, v in ip.user_ns.items() if not k.startswith("_") and k in ("c", "df", "open")),
            needles,
            tally,
        )
        assert any("POST" in str(x) for x in shown), "the dry runs showed nothing"
        assert not hits, hits
    finally:
        ip.run_line_magic("unload_ext", "autotask_magic")
        hm.end_session()
        ip.history_manager = saved_hm
        for name in ("df", "df2", "open", "c", "AutotaskClient", "time"):
            ip.user_ns.pop(name, None)
        ip.InteractiveTB.set_mode("Context")


def _has(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name=?", (table,)).fetchone() is not None
