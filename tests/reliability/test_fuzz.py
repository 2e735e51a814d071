"""Fuzzing the query language: only QuerySyntaxError escapes, and render/parse round-trips exactly."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotask_magic._exceptions import QuerySyntaxError
from autotask_magic.query import parse_where, render_where, validate_filter

from .conftest import _TALLY

FIELDS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda s: (
        s.lower()
        not in {
            "and",
            "or",
            "not",
            "in",
            "exists",
            "null",
            "true",
            "false",
            "contains",
            "beginswith",
            "endswith",
            "udf",
            "like",
            "is",
        }
    )
)
SCALARS = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=20),
)
CMP = st.sampled_from(["eq", "noteq", "gt", "gte", "lt", "lte", "contains", "beginsWith", "endsWith"])


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    field = draw(FIELDS)
    kind = draw(st.sampled_from(["cmp", "list", "exist"]))
    if kind == "cmp":
        node: dict[str, Any] = {"op": draw(CMP), "field": field, "value": draw(SCALARS)}
    elif kind == "list":
        node = {
            "op": draw(st.sampled_from(["in", "notIn"])),
            "field": field,
            "value": draw(st.lists(SCALARS, min_size=1, max_size=4)),
        }
    else:
        node = {"op": draw(st.sampled_from(["exist", "notExist"])), "field": field}
    return node


def groups(children: Any) -> Any:
    return st.builds(
        lambda op, items: {"op": op, "items": items},
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=2, max_size=3),
    )


FILTERS = st.lists(st.recursive(conditions(), groups, max_leaves=8), min_size=1, max_size=3)

QUERY_ALPHABET = (
    string.ascii_letters + string.digits + " \t\r\n()'\"=!<>:.,-_\\/*%&|^~\u00e9\u2260\uff1d\u2018\u200b\U0001f600"
)
TOKENS = st.sampled_from(
    [
        "status",
        "title",
        "and",
        "or",
        "not",
        "in",
        "(",
        ")",
        "=",
        "!=",
        ">=",
        "<",
        "'x'",
        '"y"',
        "1",
        "-2.5e3",
        "null",
        "true",
        "exists",
        "not exists",
        "contains",
        "udf.",
        'udf."A b"',
        ":p",
        ",",
        "2026-01-01",
        "2026-01-01T10:00:00Z",
        "\n",
        "--",
        "#",
    ]
)


def _check(text: str, params: dict[str, Any] | None = None) -> None:
    try:
        result = parse_where(text, params)
    except QuerySyntaxError as exc:
        assert "\n" not in str(exc)
        return
    # Whatever parses is a JSON-able filter list that validates or fails with the same error class.
    assert isinstance(result, list)
    try:
        validate_filter(result, None, entity="Tickets")
    except QuerySyntaxError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=QUERY_ALPHABET, max_size=80))
def test_random_text_raises_only_query_syntax_error(text: str) -> None:
    _TALLY.add("fuzz cases")
    _check(text, {"p": [1, 2]})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKENS, max_size=25).map(" ".join))
def test_token_soup_raises_only_query_syntax_error(text: str) -> None:
    _TALLY.add("fuzz cases")
    _check(text, {"p": "value"})


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_and_json_raise_only_query_syntax_error(text: str) -> None:
    _TALLY.add("fuzz cases")
    _check(text)
    _check("[" + text + "]")
    _check('[{"op": "eq", "field": "id", "value": ' + text + "}]")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILTERS, st.booleans())
def test_parse_of_render_is_identity(flt: list[dict[str, Any]], udf: bool) -> None:
    _TALLY.add("fuzz cases")
    if udf:  # one user-defined-field condition, with a name that needs quoting
        flt = [*flt, {"op": "eq", "field": "Customer Tier", "value": "Gold", "udf": True}]
    # A valid query is what the parser produces; the generator's shapes are normalised by one pass
    # (a parenthesised top-level 'and' group becomes the top-level list, as the language means it).
    valid = parse_where(render_where(flt))
    text = render_where(valid)
    assert parse_where(text) == valid, text
    assert render_where(parse_where(text)) == text  # rendering is stable too
