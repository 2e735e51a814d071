"""Issue 14 point 9 and 19: mistakes and interruptions end in one line naming what to do; a GET cell
with no body (or only comments) just works."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest

from autotask_magic import AuthenticationError, AutotaskError, QuerySyntaxError, WriteOutcomeUnknownError
from autotask_magic.sandbox import Sandbox
from tests._support.shell import Shown, run


def login(ip: Any, magic: Any, sb: Sandbox) -> None:
    magic._environ = sb.env("oauth")
    assert run(ip, "%autotask_login").success
    sb.reset_stats()


def one_line(capsys: Any, *, pointer: bool = False) -> str:
    """The error line (a query error may add the offending line and a caret under it)."""
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).strip().splitlines()
    assert len(lines) == (3 if pointer else 1), lines
    assert "Traceback" not in "\n".join(lines)
    return lines[0]


def test_binding_a_dataframe_is_one_line(ip: Any, magic: Any, capsys: Any) -> None:
    ip.user_ns["df"] = pd.DataFrame({"id": [1, 2]})
    result = run(ip, "%autotask query Tickets --dry-run where id = :df")
    assert isinstance(result.error_in_exec, QuerySyntaxError)
    text = one_line(capsys, pointer=True)
    assert "a DataFrame is a table, not a value; bind one column, e.g. df['id']" in text
    assert magic.last_error is result.error_in_exec


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_a_json_cell_is_one_line(ip: Any, magic: Any, capsys: Any, constant: str) -> None:
    result = run(ip, f'%%autotask POST /Tickets --dry-run\n{{"title": "x", "estimatedHours": {constant}}}')
    assert isinstance(result.error_in_exec, QuerySyntaxError)
    # one line, plus the pointer under the offending value
    captured = capsys.readouterr()
    first = (captured.out + captured.err).strip().splitlines()[0]
    assert f"the cell is not valid JSON: {constant} at line 1" in first and "write null" in first
    assert magic.last_error is result.error_in_exec  # %autotask_last_error shows this error, not an older one


def test_nan_in_a_body_variable_is_one_line(ip: Any, capsys: Any) -> None:
    ip.user_ns["body"] = {"title": "x", "estimatedHours": float("nan")}
    result = run(ip, "%autotask POST /Tickets --body body --dry-run")
    assert not result.success
    assert "--body body cannot be sent as JSON" in one_line(capsys)


def _interrupt_after_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    original = httpx.HTTPTransport.handle_request

    def handle(self: Any, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return original(self, request)
        original(self, request)
        raise KeyboardInterrupt  # Ctrl-C while httpcore waits for the answer

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("%autotask query Tickets --count", AutotaskError),
        ("%autotask GET /Companies/0", AutotaskError),
        ("%%autotask POST /Tickets\n{}", WriteOutcomeUnknownError),
    ],
)
def test_ctrl_c_during_one_request_is_one_line(
    ip: Any, magic: Any, sandbox: Sandbox, capsys: Any, monkeypatch: pytest.MonkeyPatch, line: str, error: type
) -> None:
    login(ip, magic, sandbox)
    run(ip, "%autotask fields Tickets")  # metadata first, so the interrupted request is the one under test
    capsys.readouterr()
    _interrupt_after_sending(monkeypatch)
    result = run(ip, line)
    assert type(result.error_in_exec) is error
    assert "interrupted (Ctrl-C)" in one_line(capsys)


def test_a_rejected_token_says_what_to_run_in_a_notebook(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox)
    assert run(ip, "%autotask GET /Companies/0 -o first").success  # the token works: a later 401 is a rejection
    capsys.readouterr()
    sandbox.faults.reject_all_tokens = True
    for _ in range(2):  # the rejection, then the remembered failure that blocks the session
        result = run(ip, "%autotask GET /Companies/0")
        assert isinstance(result.error_in_exec, AuthenticationError)
        text = one_line(capsys)
        assert "run %autotask_login again (or press Refresh now on the status panel)" in text
        assert "refresh()" not in text
    sandbox.faults.reject_all_tokens = False
    assert run(ip, "%autotask_login").success  # what the message says works at once
    assert run(ip, "%autotask GET /Companies/0").success


# ------------------------------------------------------------------------------------- point 19


@pytest.mark.parametrize(
    "cell",
    [
        "%%autotask GET /Companies/0",
        "%%autotask GET /Companies/0\n",
        "%%autotask GET /Companies/0\n   \n",
        "%%autotask GET /Companies/0\n# the first company\n  # nothing to send\n",
    ],
)
def test_a_get_cell_without_a_body_is_fine(ip: Any, magic: Any, sandbox: Sandbox, cell: str) -> None:
    login(ip, magic, sandbox)
    result = run(ip, cell + " --raw" if "\n" not in cell else cell.replace("\n", " --raw\n", 1))
    assert result.success, result.error_in_exec
    assert result.result["item"]["id"] == 0


def test_an_empty_query_cell_gets_the_magics_answer(ip: Any, magic: Any, capsys: Any) -> None:
    result = run(ip, "%%autotask query Companies")
    assert not result.success
    assert "the cell body holds no condition" in one_line(capsys)


def test_comment_lines_in_a_post_body_are_dropped(ip: Any, magic: Any, shown: Shown) -> None:
    assert run(ip, '%%autotask POST /Tickets --dry-run\n# a new ticket\n{"title": "x"}').success
    assert '"title": "x"' in shown.text()
