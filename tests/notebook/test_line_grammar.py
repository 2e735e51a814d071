"""Issue 14: the magic does exactly what the line says, or refuses (one line grammar for every magic).

Options count wherever they stand, a comment is whitespace then ``#``, values enter only through
``:name`` (no IPython ``{}`` expansion), empty conditions and clashing options are refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from autotask_magic.notebook import _commands, _line
from autotask_magic.sandbox import Sandbox
from tests._support.shell import Shown, run


def login(ip: Any, magic: Any, sb: Sandbox) -> None:
    magic._environ = sb.env("oauth")
    assert run(ip, "%autotask_login").success
    sb.reset_stats()


# ------------------------------------------------------------------------------ point 1: options anywhere


def test_the_grammar_words_comments_and_options() -> None:
    assert [w.value for w in _line.words("a 'b c' d#e  # comment 'x")] == ["a", "b c", "d#e"]
    assert _line.strip_comment("%load_ext autotask_magic   # no network") == "%load_ext autotask_magic"
    opts = [w.raw for w in _line.words("--count -o x -5 -- --limit=3 '--raw'") if _line.is_option(w)]
    assert opts == ["--count", "-o", "--limit=3"]
    with pytest.raises(UsageError, match="no closing quote"):
        _line.words("title = 'x")


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("Tickets where status = 5 --count", {"count": True, "text": "status = 5"}),
        ("Tickets where status != 5 --dry-run", {"dry_run": True, "text": "status != 5"}),
        ("Tickets where id = 10001 --limit 5", {"limit": 5, "text": "id = 10001"}),
        ("Tickets where id > 1 -o t and status = 5", {"output": "t", "text": "id > 1      and status = 5"}),
        ("Tickets where title = '--count' # note", {"count": False, "text": "title = '--count'"}),
    ],
)
def test_options_after_where_are_options(line: str, expect: dict[str, Any]) -> None:
    cmd = _commands.parse_query(line, None, {})
    for key, value in expect.items():
        assert getattr(cmd, key) == value, key


def test_unknown_option_after_where_is_refused() -> None:
    with pytest.raises(UsageError, match="--cuont"):
        _commands.parse_query("Tickets where status = 5 --cuont", None, {})


def test_an_option_inside_a_query_cell_body_is_refused() -> None:
    with pytest.raises(UsageError, match="--count on line 2 of the cell is not read as an option"):
        _commands.parse_query("Tickets", "status = 5 --count\n", {})
    # the query language's own "-- comment" stays a comment
    assert _commands.parse_query("Tickets", "status = 5 -- --count is not wanted\n", {}).count is False


def test_count_after_where_sends_a_count(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%autotask query Tickets where status = 5 --count")
    assert result.success, result.error_in_exec
    assert isinstance(result.result, int)
    sent = dict(sandbox.stats.requests_by_endpoint)
    assert sent["POST /Tickets/query/count"] == 1 and "POST /Tickets/query" not in sent


def test_a_trailing_comment_is_ignored_by_every_magic(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    magic._environ = sandbox.env("oauth")
    assert run(ip, "%autotask_login   # from the environment").success
    result = run(ip, "%autotask query Companies --limit 2   # two of them")
    assert result.success, result.error_in_exec
    assert len(result.result) == 2
    assert run(ip, "%autotask_status  # who am I").success


# ------------------------------------------------------------------------------ point 3: no {} expansion


def test_braces_are_not_expanded_on_the_line(ip: Any, magic: Any, shown: Shown) -> None:
    ip.user_ns["s"] = "x' or status = '1"
    assert run(ip, "%autotask query Tickets --dry-run where title = '{s}'").success
    text = shown.text()
    assert '"value": "{s}"' in text and '"or"' not in text
    assert run(ip, "%autotask query Tickets --dry-run where title = '{id}'").success
    assert "built-in" not in shown.text()


def test_a_path_takes_values_through_colon_name(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    ip.user_ns["cid"] = 0
    result = run(ip, "%autotask GET /Companies/:cid --raw")
    assert result.success, result.error_in_exec
    assert result.result["item"]["id"] == 0
    assert dict(sandbox.stats.requests_by_endpoint)["GET /Companies/{id}"] == 1


def test_a_path_value_is_one_encoded_segment() -> None:
    cmd = _commands.parse_request("GET", "/Companies/:x/Contacts", None, {"x": "a/../b?c"}, None)
    assert cmd.path == "Companies/a%2F..%2Fb%3Fc/Contacts"
    with pytest.raises(UsageError, match="unknown parameter :nope in the path"):
        _commands.parse_request("GET", "/Companies/:nope", None, {}, None)
    with pytest.raises(UsageError, match="needs a whole number or non-empty text, got list"):
        _commands.parse_request("GET", "/Companies/:x", None, {"x": [1]}, None)
    with pytest.raises(UsageError, match=r"may not contain '\.' or '\.\.'"):
        _commands.parse_request("GET", "/Companies/:x", None, {"x": ".."}, None)


# ------------------------------------------------------------------------------ point 5: empty condition


@pytest.mark.parametrize(
    ("line", "cell", "where"),
    [
        ("Companies where", None, "'where'"),
        ("Companies where   # nothing", None, "'where'"),
        ("Companies --where ''", None, "--where"),
        ("Companies", "   \n\t\n", "the cell body"),
        ("Companies", "# only a comment\n-- and another\n", "the cell body"),
    ],
)
def test_an_empty_condition_is_refused(line: str, cell: str | None, where: str) -> None:
    with pytest.raises(UsageError, match=f"^{where} holds no condition"):
        _commands.parse_query(line, cell, {})


def test_a_bare_query_stays_a_full_pull() -> None:
    assert _commands.parse_query("Companies", None, {}).filter == []


def test_an_empty_condition_sends_nothing(ip: Any, magic: Any, sandbox: Sandbox, capsys: Any) -> None:
    login(ip, magic, sandbox)
    result = run(ip, "%%autotask query Companies\n# nothing yet\n")
    assert not result.success
    assert sandbox.stats.api_requests == 0
    captured = capsys.readouterr()
    assert len((captured.out + captured.err).strip().splitlines()) == 1


# ------------------------------------------------------------------------------ point 6: clashing options


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Tickets --count --limit 5", "--count and --limit do not go together"),
        ("Tickets --count --fields id", "--count and --fields do not go together"),
        ("Tickets --count --raw", "--count and --raw do not go together"),
        ("Tickets --count --labels", "--count and --labels do not go together"),
        ("Tickets --raw --labels", "--raw and --labels do not go together"),
    ],
)
def test_clashing_options_are_refused(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _commands.parse_query(line, None, {})


# ------------------------------------------------------------------------------ point 8: paths as the README says


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/Tickets/10001#frag", "may not contain '#'"),
        ("/Companies/\\..\\x", "may not contain a backslash"),
        ("/Companies\\0", "may not contain a backslash"),
    ],
)
def test_fragments_and_backslashes_are_refused(path: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _commands.parse_request("GET", path, None, {}, None)


def test_a_fragment_sends_nothing(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    assert not run(ip, "%autotask GET /Tickets/10001#frag").success
    assert sandbox.stats.api_requests == 0
    assert run(ip, "%autotask GET /Companies/0 #a comment, not a fragment").success
    assert dict(sandbox.stats.requests_by_endpoint)["GET /Companies/{id}"] == 1


# ------------------------------------------------------------------------------ point 15: -o NAME


@pytest.mark.parametrize("name", ["class", "None", "lambda", "2x"])
def test_output_name_must_be_a_usable_variable(name: str) -> None:
    with pytest.raises(UsageError, match="-o needs a Python variable name"):
        _commands.parse_query(f"Tickets -o {name}", None, {})


def test_output_shadowing_a_builtin_warns(ip: Any, magic: Any, shown: Shown, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    assert run(ip, "%autotask query Companies --limit 1 -o print").success
    assert "-o print hides Python's builtin print" in shown.text()
    assert run(ip, "%autotask query Companies --limit 1 -o companies").success
    assert shown.text().count("hides Python's builtin") == 1
