"""Parsing, running and showing as separate units: ``_commands`` turns lines into command objects
without a shell or a client, ``_output.store_and_show`` is the one ``-o NAME`` behaviour."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from autotask_magic import QuerySyntaxError
from autotask_magic.notebook import _commands, _output


def test_parse_query_builds_a_command_without_a_client() -> None:
    cmd = _commands.parse_query("Tickets --fields id,title --limit 1,000 -o t where status != :s", None, {"s": 5})
    assert cmd == _commands.QueryCommand(
        entity="Tickets",
        text="status != :s",
        filter=[{"op": "noteq", "field": "status", "value": 5}],
        fields=["id", "title"],
        limit=1000,
        output="t",
    )
    assert cmd.labels is None and cmd.tz is None  # the magic's defaults decide later


def test_parse_query_takes_the_condition_from_the_cell_once() -> None:
    assert _commands.parse_query("Tickets", "id > 1", {}).text == "id > 1"
    with pytest.raises(UsageError, match="give the condition once"):
        _commands.parse_query("Tickets where id > 2", "id > 1", {})
    with pytest.raises(UsageError, match="--tz: unknown time zone 'Mars/Base'"):
        _commands.parse_query("Tickets --tz Mars/Base", None, {})
    with pytest.raises(QuerySyntaxError, match=r"define missing = \.\.\. in a cell first"):
        _commands.parse_query("Tickets where id = :missing", None, {})


def test_parse_request_reads_path_params_and_body() -> None:
    cmd = _commands.parse_request("POST", "/V1.0/Tickets?x=1 -o made", '{"title": "t"}', {}, None)
    assert (cmd.method, cmd.path, cmd.params, cmd.body, cmd.output) == (
        "POST",
        "Tickets",
        {"x": "1"},
        {"title": "t"},
        "made",
    )
    root = "https://h.example/ATServicesRest/V1.0/"
    assert _commands.parse_request("GET", root + "Companies/0", None, {}, root).segments == ["Companies", "0"]
    with pytest.raises(UsageError, match="absolute URLs must be under the API root"):
        _commands.parse_request("GET", "https://evil.example/Companies/0", None, {}, root)
    with pytest.raises(UsageError, match="--body b: expected a dict or list, got int"):
        _commands.parse_request("POST", "/Tickets --body b", None, {"b": 1}, None)


def test_parse_fields_and_unknown_command() -> None:
    assert _commands.parse_fields("Tickets -o f") == _commands.FieldsCommand("Tickets", "f")
    assert "did you mean %autotask query Tickets?" in str(_commands.unknown_command("Tickts", set()))


@pytest.mark.parametrize(
    ("result", "said"),
    [
        (42, ["n: 42 Tickets"]),
        ([{"id": 1}, {"id": 2}], ["n: 2 records"]),
        ({"item": {}}, ["n: 1 records"]),
    ],
)
def test_store_and_show_puts_the_value_in_the_namespace_and_shows_a_summary(result: Any, said: list[str]) -> None:
    ns: dict[str, Any] = {}
    lines: list[str] = []
    shown: list[Any] = []
    _output.store_and_show(ns, "n", result, say=lines.append, display=shown.append, rows=5, noun="Tickets")
    assert ns["n"] is result
    assert lines == said and shown == []


def test_store_and_show_a_frame_shows_its_head() -> None:
    import pandas as pd

    df = pd.DataFrame({"id": range(10)})
    ns: dict[str, Any] = {}
    lines: list[str] = []
    shown: list[Any] = []
    _output.store_and_show(ns, "df", df, say=lines.append, display=shown.append, rows=3)
    assert lines[0].startswith("df: 10 rows")
    assert len(shown) == 1 and len(shown[0]) == 3
    _output.store_and_show(ns, "df", df, say=lines.append, display=shown.append, rows=0)
    assert len(shown) == 1
