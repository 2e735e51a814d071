"""A corpus of malformed magic invocations: one-line error, no request, kernel still usable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic.notebook import _magics
from autotask_magic.sandbox import Sandbox
from tests._support.tally import Tally

MB = "x" * (1024 * 1024)

# (line, cell or None). Line magics are written as %autotask <line>; cells as %%autotask <line>\n<cell>.
CORPUS: list[tuple[str, str | None]] = [
    # bad JSON bodies
    ("POST /Tickets", "{not json}"),
    ("POST /Tickets", '{"title": "a",}'),
    ("PATCH /Tickets", "[1, 2"),
    ("PUT /Tickets", "'single quotes'"),
    ("POST /Tickets", '{"title": "\u0000"'),
    ("POST /Tickets", "NaN-ish {"),
    ("query Tickets", '[{"op": "eq", "field": "id", "value": 1}'),
    ("query Tickets", '[{"op": "bogus", "field": "id", "value": 1}]'),
    ("query Tickets", '{"filter": "not a list"}'),
    # unknown method / command
    ("FETCH /Tickets/1", None),
    ("get", None),
    ("selectt Tickets", None),
    ("Tickets", None),
    ("HEAD /Tickets/1", None),
    # entity names
    ("query Tick-ets", None),
    ("query 123", None),
    ("query Tickets/../Companies", None),
    ("query ../Tickets", None),
    ("query Tickets;DROP", None),
    # unknown field / operator / syntax
    ("query Tickets where statuss = 1", None),
    ("query Tickets where status === 1", None),
    ("query Tickets where status ~ 1", None),
    ("query Tickets where status like 'x'", None),
    ("query Tickets where (status = 1", None),
    ("query Tickets where status = 1)", None),
    ("query Tickets", "((status = 1) or (priority = 2)"),
    ("query Tickets", "status = 1 and"),
    ("query Tickets", "status in (1, 2"),
    ("query Tickets", "status in ()"),
    ("query Tickets", "title = 'unterminated"),
    ("query Tickets", "status = :no_such_variable"),
    ("query Tickets", 'udf."A" = 1 and udf."B" = 2'),
    ("query Tickets --fields id,nosuchfield", None),
    ("query Tickets", "status = 1 status = 2"),
    ("query Tickets", "= 1"),
    ("query Tickets", "status = 1\r\nand and priority = 2"),
    # paths with CR/LF or ..
    ("GET /Tickets/../Companies/0", None),
    ("GET /Tickets/./1", None),
    ("GET ../../etc/passwd", None),
    ("GET /Tickets/1", "\r\nX-Injected: yes"),
    ("GET /Tickets/%0D%0AX-Injected:%20yes/1", None),
    ("GET /Tickets/%0d%0aHost:evil", None),
    ("GET http://evil.example.com/ATServicesRest/V1.0/Tickets/1", None),
    ("GET https://127.0.0.1:1/ATServicesRest/V1.0/Tickets/1", None),
    ("GET", None),
    ("DELETE /Tickets/1", '{"id": 1}'),
    ("PATCH /Tickets/5", '{"id": 5}'),
    ("POST /Tickets", None),
    ("POST /Tickets --body no_such_name", None),
    ("POST /Tickets --body an_int", None),
    # a 1 MB cell, odd Unicode
    ("query Tickets", "title = '" + MB + "'x"),
    ("query Tickets", MB),
    ("POST /Tickets", MB),
    ("query Tickets", "títle\u200b = 1 \u2260 2"),
    ("query Tickets", "status \uff1d 1"),
    ("query Tickets", "title = \u2018smart quotes\u2019"),
    ("query Tickets", "\udcff = 1"),
    ("query T\u0131ckets", None),
    ("query Tickets where title = 'a' \U0001f600 and", None),
    # wrong option types
    ("query Tickets --limit abc", None),
    ("query Tickets --limit -5", None),
    ("query Tickets --limit 0", None),
    ("query Tickets --limit 1.5", None),
    ("query Tickets -o 1bad", None),
    ("query Tickets -o a.b", None),
    ("query Tickets --tz Mars/Olympus", None),
    ("query Tickets --count --raw", None),
    ("query Tickets --nosuchoption", None),
    ("query Tickets --fields", None),
    ("query Tickets 'unbalanced", None),
    ("query Tickets --where 'status = 1' where priority = 2", None),
    ("GET /Tickets/1 -o not-an-identifier", None),
]


@pytest.fixture
def shell(sbx: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Sandbox]]:
    sb: Sandbox = sbx(tickets=300)
    for k in list(__import__("os").environ):
        if k.startswith("AUTOTASK_"):
            monkeypatch.delenv(k)
    for k, v in sb.env("oauth").items():
        monkeypatch.setenv(k, v)
    ip = InteractiveShell.instance()
    ip.history_manager.enabled = False
    ip.run_line_magic("load_ext", "autotask_magic")
    magic = _magics.get_magic(ip)
    assert magic is not None
    magic.progress = "text"
    magic._display = lambda obj: None
    try:
        yield ip, sb
    finally:
        ip.run_line_magic("unload_ext", "autotask_magic")
        for name in ("an_int", "_warm", "_two"):
            ip.user_ns.pop(name, None)
        ip.InteractiveTB.set_mode("Context")


def _counters(sb: Sandbox) -> tuple[Any, ...]:
    s = sb.stats
    return (s.api_requests, s.token_requests, s.zone_requests, len(s.writes), dict(s.requests_by_endpoint))


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 50


def test_every_malformed_invocation_fails_in_one_line_without_a_request(shell: Any, capsys: Any, tally: Tally) -> None:
    ip, sb = shell
    ip.user_ns["an_int"] = 5
    # Log in and load the metadata the validation needs; from here on nothing may reach the server.
    assert ip.run_cell("_warm = %autotask query Tickets --limit 1", store_history=False).success
    assert ip.run_cell("_warm = %autotask query Companies --limit 1", store_history=False).success
    capsys.readouterr()
    problems: list[str] = []
    for line, cell in CORPUS:
        before = _counters(sb)
        code = f"%autotask {line}" if cell is None else f"%%autotask {line}\n{cell}"
        result = ip.run_cell(code, store_history=False)
        captured = capsys.readouterr()
        out = captured.out + captured.err
        label = repr(code[:80])
        if result.success:
            problems.append(f"{label}: succeeded")
        lines = [x for x in out.splitlines() if x.strip()]
        # One error line; a syntax error may add its column pointer (the source line and a caret).
        pointer = len(lines) == 3 and set(lines[2].strip()) == {"^"}
        if "Traceback" in out or not lines or "Error" not in lines[0] or not (len(lines) == 1 or pointer):
            problems.append(f"{label}: {len(lines)} output lines: {out[:300]!r}")
        elif max(len(x) for x in lines) > 400:
            problems.append(f"{label}: output line of {max(len(x) for x in lines)} chars")
        if _counters(sb) != before:
            problems.append(f"{label}: sent a request {before} -> {_counters(sb)}")
        ok = ip.run_cell("_two = 1 + 1", store_history=False)
        if not ok.success or ip.user_ns.get("_two") != 2:
            problems.append(f"{label}: kernel not usable afterwards")
        capsys.readouterr()
    tally.add("bad inputs", len(CORPUS))
    assert not problems, "\n".join(problems)
    # And the session still works for real.
    assert ip.run_cell("_two = %autotask query Tickets --count", store_history=False).success
    assert ip.user_ns["_two"] == 300
