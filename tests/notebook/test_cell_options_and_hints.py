"""Cell-body option lines, the ``:name`` hint in the magic, and the progress bar's plain-text form."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from autotask_magic import QuerySyntaxError
from autotask_magic.notebook import _display
from autotask_magic.sandbox import Sandbox
from tests._support.shell import Shown, run


def login(ip: Any, magic: Any, sb: Sandbox) -> None:
    magic._environ = sb.env("oauth")
    result = run(ip, "%autotask_login")
    assert result.success, result.error_in_exec
    sb.reset_stats()


# ------------------------------------------------------------------------ options in the cell body


@pytest.mark.parametrize(
    "body_line", ["--fields id,title", "--limit 5", "-o open_tickets", "  --count", "--labels", "--where=status != 5"]
)
def test_option_on_second_line_of_a_query_cell_is_refused(
    ip: Any, magic: Any, sandbox: Sandbox, capsys: Any, body_line: str
) -> None:
    login(ip, magic, sandbox)
    result = run(ip, f"%%autotask query Tickets\n{body_line}\nstatus != 5")
    assert not result.success
    assert isinstance(result.error_in_exec, UsageError)
    message = str(result.error_in_exec)
    assert "options go on the first line" in message and "%%autotask query Tickets" in message
    assert "\n" not in message
    assert sandbox.stats.api_requests == 0  # refused before any request
    assert "open_tickets" not in ip.user_ns


def test_option_line_in_a_raw_request_cell_is_refused(ip: Any, magic: Any) -> None:
    result = run(ip, '%%autotask POST /Tickets\n--dry-run\n{"title": "x"}')
    assert isinstance(result.error_in_exec, UsageError)
    assert "options go on the first line" in str(result.error_in_exec)


def test_ordinary_comments_in_a_query_cell_still_work(ip: Any, magic: Any, shown: Shown) -> None:
    cell = "%%autotask query Tickets --dry-run\n-- open tickets only\n--\nstatus != 5 -- not complete\n# done"
    result = run(ip, cell)
    assert result.success, result.error_in_exec
    assert '"op": "noteq"' in shown.text()


def test_options_on_the_first_line_are_applied(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    df = run(ip, "%%autotask query Tickets --fields id,title --limit 3\nstatus != 5").result
    assert list(df.columns) == ["id", "title"] and len(df) == 3


# ------------------------------------------------------------------------ :name hint


def test_unknown_parameter_hint_speaks_of_the_notebook_not_params(ip: Any, magic: Any, capsys: Any) -> None:
    ip.user_ns.pop("tier", None)
    result = run(ip, '%%autotask query Companies\nudf."Customer Tier" = :tier')
    err = result.error_in_exec
    assert isinstance(err, QuerySyntaxError)
    assert "unknown parameter :tier" in str(err)
    assert "define tier = ... in a cell first" in str(err)
    assert "params=" not in str(err)
    out = capsys.readouterr().out
    assert "define tier = ... in a cell first" in out and "params=" not in out


def test_defined_parameter_binds(ip: Any, magic: Any, shown: Shown) -> None:
    ip.user_ns["tier"] = "Gold"
    result = run(ip, '%%autotask query Companies --dry-run\nudf."Customer Tier" = :tier')
    assert result.success, result.error_in_exec
    assert '"Gold"' in shown.text()


# ------------------------------------------------------------------------ progress bar text/plain


def test_progress_widget_plain_text_is_the_summary_not_the_widget_repr(
    ip: Any, magic: Any, shown: Shown, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ipywidgets")
    login(ip, magic, sandbox)
    monkeypatch.setattr(magic, "_in_kernel", lambda: True)  # widgets as in a Jupyter kernel
    magic.progress = "widget"
    result = run(ip, "x = %autotask query Tickets --fields id")
    assert result.success, result.error_in_exec
    bars = [obj for obj in shown if type(obj).__name__ == "ProgressBox"]
    assert len(bars) == 1
    # Closed after the pull (ipywidgets then drops its widget bundle): IPython formats the plain text.
    data, _ = ip.display_formatter.format(bars[0])
    plain = data["text/plain"]
    assert plain.startswith("Tickets: 2,000 records in 4 pages, ") and plain.endswith(" s"), plain
    assert "HBox" not in plain and "IntProgress" not in plain
    assert repr(bars[0]) == plain


class _Handle:
    def __init__(self) -> None:
        self.bundles: list[dict[str, Any]] = []

    def update(self, obj: Any) -> None:
        self.bundles.append(obj._repr_mimebundle_())


class _Page:
    def __init__(self, pages: int, records: int, total: int) -> None:
        self.pages, self.records, self.total_estimate = pages, records, total


def test_progress_display_is_updated_with_the_summary_when_done() -> None:
    pytest.importorskip("ipywidgets")
    handle = _Handle()
    displayed: list[Any] = []

    def display(obj: Any) -> _Handle:
        displayed.append(obj)
        return handle

    p = _display.Progress("Tickets", mode="widget", display=display, widgets=True, clock=lambda: 2.0)
    p.update(_Page(1, 500, 1200))
    p.update(_Page(2, 1000, 1200))
    bundle = displayed[0]._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "Tickets:  83% 1,000 of 1,200 records · 2 pages"  # no time passed: no rate
    p.update(_Page(3, 1200, 1200))
    p.finish()
    # What a saved notebook keeps: the last display's bundle, whose text is the summary.
    assert len(handle.bundles) == 1
    assert handle.bundles[0]["text/plain"].startswith("Tickets: 1,200 records in 3 pages, ")
    assert repr(displayed[0]) == handle.bundles[0]["text/plain"]
