"""Issue 14 points 11-18: suggestions, UDFs in --fields, type checks, dtypes, completion, partials."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autotask_magic import NotFoundError, QuerySyntaxError
from autotask_magic.entities import suggest_entity
from autotask_magic.sandbox import Sandbox
from tests._support.shell import interrupt_on_page, run


def login(ip: Any, magic: Any, sb: Sandbox) -> None:
    magic._environ = sb.env("oauth")
    assert run(ip, "%autotask_login").success
    sb.reset_stats()


# ------------------------------------------------------------------------------ point 11


def test_a_suggestion_never_repeats_the_input() -> None:
    assert suggest_entity("ConfigurationItems") != "ConfigurationItems"
    assert suggest_entity("TicketNote") == "TicketNotes"


def test_an_entity_the_server_does_not_serve(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    # A real entity this server withholds (a tenant whose API user lacks it, or an older API version).
    sandbox.hidden_entities = frozenset({"ConfigurationItems"})
    login(ip, magic, sandbox)
    result = run(ip, "%autotask query ConfigurationItems --count")
    assert isinstance(result.error_in_exec, NotFoundError)
    text = str(result.error_in_exec)
    assert "did you mean ConfigurationItems" not in text
    assert "ConfigurationItems is an Autotask entity, but this server does not serve it" in text


# ------------------------------------------------------------------------------ point 12


@pytest.mark.parametrize("spelling", ['"id,udf.Root Cause"', "'id,udf.\"Root Cause\"'", "id,udf.root_cause"])
def test_fields_accepts_udfs_as_the_listing_shows_them(ip: Any, magic: Any, sandbox: Sandbox, spelling: str) -> None:
    login(ip, magic, sandbox)
    listed = run(ip, "%autotask fields Tickets").result
    assert "udf.Root Cause" in set(listed.index)
    if "root_cause" in spelling:  # not the listing's spelling: refused with the right one
        result = run(ip, f"%autotask query Tickets --fields {spelling} --limit 5")
        assert isinstance(result.error_in_exec, QuerySyntaxError)
        assert 'did you mean udf."Root Cause"?' in str(result.error_in_exec)
        return
    result = run(ip, f"%autotask query Tickets --fields {spelling} --limit 50")
    assert result.success, result.error_in_exec
    df = result.result
    assert df.columns.tolist() == ["id", "udf.Root Cause"] and df["udf.Root Cause"].notna().any()


# ------------------------------------------------------------------------------ point 13


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("title > 5", "title is a text field, got 5"),
        ("title = true", "title is a text field, got True"),
        ("createDate >= '2026-13-45'", "createDate is a date field and this is no real date, got '2026-13-45'"),
        ("id > 1 and (dueDateTime < '2026-02-30')", "dueDateTime is a date field and this is no real date"),
    ],
)
def test_values_are_checked_against_the_field_type_before_sending(
    ip: Any, magic: Any, sandbox: Sandbox, condition: str, message: str
) -> None:
    login(ip, magic, sandbox)
    run(ip, "%autotask fields Tickets")
    sandbox.reset_stats()
    result = run(ip, f"%autotask query Tickets where {condition}")
    assert isinstance(result.error_in_exec, QuerySyntaxError)
    assert message in str(result.error_in_exec)
    assert sandbox.stats.api_requests == 0


# ------------------------------------------------------------------------------ point 16


def _complete(ip: Any, text: str) -> list[str]:
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


def test_completion_offers_no_junk_inside_the_magic(ip: Any, magic: Any) -> None:
    texts = _complete(ip, "%autotask query Tickets --fields id,ti")
    assert not any(t.startswith("%") or t in ("time", "timeit") for t in texts), texts
    texts = _complete(ip, "%autotask GET /Companies/174/Con")
    assert "ConnectionError" not in texts
    assert any(t.endswith("Contacts") for t in texts), texts
    # outside the magic IPython completes as usual
    assert "ConnectionError" in _complete(ip, "ConnectionErr")


def test_field_completion_after_fields_once_metadata_is_known(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    run(ip, "%autotask fields Tickets")
    assert "title" in _complete(ip, "%autotask query Tickets --fields id,ti")


# ------------------------------------------------------------------------------ point 18


def test_the_partial_result_says_which_pull_and_when(
    ip: Any, magic: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    login(ip, magic, sandbox)
    with monkeypatch.context() as patch:
        interrupt_on_page(patch, 2)
        assert not run(ip, "%autotask query Tickets where id > 0").success
    assert run(ip, "%autotask query Companies --limit 2").success  # a later pull succeeds
    partial = ip.user_ns["_autotask_partial"]
    info = partial.attrs["autotask"]
    assert info["query"] == "%autotask query Tickets where id > 0" and info["partial"] is True
    assert info["stopped_at"].endswith("+00:00") and info["records"] == len(partial)
    text = repr(partial)
    assert text.startswith("partial result of `%autotask query Tickets where id > 0`: ")
    assert re.search(r"stopped \d+ s ago \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\) — not the latest pull", text)
    assert "partial result of" in partial._repr_html_()
    derived = partial[partial["id"] > 0]
    assert type(derived) is pd.DataFrame  # derived frames are plain


# ------------------------------------------------------------------------------ point 14


def test_empty_and_full_results_have_the_same_dtypes(ip: Any, magic: Any, sandbox: Sandbox) -> None:
    login(ip, magic, sandbox)
    empty = run(ip, "%autotask query Tickets where id < 0").result
    few = run(ip, "%autotask query Tickets --limit 3").result
    full = run(ip, "%autotask query Tickets").result
    assert len(empty) == 0 and len(few) == 3 and full["contactID"].isna().any()
    assert empty.dtypes.to_dict() == few.dtypes.to_dict() == full.dtypes.to_dict()
    assert str(full["contactID"].dtype) == "Int64" and str(full["id"].dtype) == "int64"
