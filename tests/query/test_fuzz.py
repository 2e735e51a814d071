"""Hypothesis over the query language: only QuerySyntaxError escapes, and render/parse round-trips.

Each property is written once (``_only_syntax_error``, ``_round_trips``) and fed by several generators:
language pieces, a plain alphabet, token soup, arbitrary unicode and JSON, canonical and any-shape filters.
Every example counts as a "fuzz case" in the reliability summary.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotask_magic._exceptions import QuerySyntaxError
from autotask_magic.query import parse_where, render_where, validate_filter
from tests._support.tally import TALLY

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of the language, so random text often gets deep into the parser rather than failing at once.
_PIECES = st.sampled_from(
    [
        "status",
        "udf.",
        '"Tier"',
        "'x'",
        "=",
        "!=",
        ">=",
        "<",
        "<>",
        "==",
        "=~",
        " in ",
        " not ",
        "exists",
        "contains",
        "beginswith",
        " and ",
        " or ",
        "(",
        ")",
        ",",
        ":p",
        ":missing",
        "null",
        "true",
        "5",
        "-1.5e3",
        "2026-01-01",
        "\\",
        "\r\n",
        "\n",
        " ",
        "\u00a0",
        "\u201c",
        "é",
        "😀",
        "[",
        "{",
        '"op"',
        ":",
        "#",
        "--",
        ".",
        "is",
        "\x00",
        "\ud800",
        "title",
        "and",
        "or",
        "not",
        "in",
        '"y"',
        "not exists",
        'udf."A b"',
        "2026-01-01T10:00:00Z",
    ]
)
_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(_PIECES, max_size=40).map("".join),
    st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=30).map("".join),
)
_PARAMS = {"p": [1, 2], "s": "x", "n": None}


QUERY_ALPHABET = (
    string.ascii_letters + string.digits + " \t\r\n()'\"=!<>:.,-_\\/*%&|^~\u00e9\u2260\uff1d\u2018\u200b\U0001f600"
)


def _only_syntax_error(text: str, params: dict[str, Any] | None = None) -> None:
    """The property: parsing any text either fails with a one-line QuerySyntaxError pointing inside the text,
    or gives a filter list that validates or fails with the same error class."""
    TALLY.add("fuzz cases")
    try:
        result = parse_where(text, params)
    except QuerySyntaxError as err:
        assert "\n" not in str(err)
        assert err.position is None or 0 <= err.position <= len(text)
        return
    assert isinstance(result, list)
    try:
        validate_filter(result, None, entity="Tickets")
    except QuerySyntaxError:
        pass


@FUZZ
@given(_TEXT)
def test_only_query_syntax_error_escapes(text: str) -> None:
    _only_syntax_error(text, _PARAMS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=QUERY_ALPHABET, max_size=80))
def test_random_text_raises_only_query_syntax_error(text: str) -> None:
    _only_syntax_error(text, {"p": [1, 2]})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=25).map(" ".join))
def test_token_soup_raises_only_query_syntax_error(text: str) -> None:
    _only_syntax_error(text, {"p": "value"})


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_and_json_raise_only_query_syntax_error(text: str) -> None:
    _only_syntax_error(text)
    _only_syntax_error("[" + text + "]")
    _only_syntax_error('[{"op": "eq", "field": "id", "value": ' + text + "}]")


# ---- generated valid filters in canonical form (what parse_where produces)

_reserved = {"and", "or", "not", "udf"}
_names = (
    st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=3)
    .flatmap(
        lambda head: st.text(alphabet=string.ascii_letters + string.digits + "_", max_size=8).map(
            lambda tail: head + tail
        )
    )
    .filter(lambda s: s.lower() not in _reserved)
)
_scalars = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=20),
)
_SCALAR_OPS = ["eq", "noteq", "gt", "gte", "lt", "lte", "contains", "beginsWith", "endsWith"]


@st.composite
def _condition(draw: st.DrawFn, udf: bool = False) -> dict[str, Any]:
    field = draw(st.text(min_size=1, max_size=12).filter(str.strip)) if udf else draw(_names)
    kind = draw(st.sampled_from(["scalar", "list", "exist"]))
    node: dict[str, Any] = {"field": field}
    if udf:
        node["udf"] = True
    if kind == "scalar":
        node["op"] = draw(st.sampled_from(_SCALAR_OPS))
        node["value"] = draw(_scalars)
    elif kind == "list":
        node["op"] = draw(st.sampled_from(["in", "notIn"]))
        node["value"] = draw(st.lists(_scalars, min_size=1, max_size=4))
    else:
        node["op"] = draw(st.sampled_from(["exist", "notExist"]))
    return node


@st.composite
def _group(draw: st.DrawFn, op: str, depth: int) -> dict[str, Any]:
    # Children are conditions or groups of the other operator (same-op nesting is flattened by the parser).
    other = "and" if op == "or" else "or"
    items = []
    for _ in range(draw(st.integers(2, 3))):
        nest = depth < 2 and draw(st.integers(0, 3)) == 0
        items.append(draw(_group(other, depth + 1)) if nest else draw(_condition()))
    return {"op": op, "items": items}


@st.composite
def _filters(draw: st.DrawFn) -> list[dict[str, Any]]:
    items = [
        draw(_group("or", 1)) if draw(st.integers(0, 2)) == 0 else draw(_condition())
        for _ in range(draw(st.integers(1, 4)))
    ]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), draw(_condition(udf=True)))
    return items


def _groups(children: Any) -> Any:
    """Groups of either operator at any depth (same-op nesting included), unlike ``_group``."""
    return st.builds(
        lambda op, items: {"op": op, "items": items},
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=2, max_size=3),
    )


# Any shape, not only the parser's canonical form: the round trip starts after one normalising pass.
_ANY_SHAPE = st.lists(st.recursive(_condition(), _groups, max_leaves=8), min_size=1, max_size=3)


def _round_trips(valid: list[dict[str, Any]]) -> None:
    """The property: a filter in canonical form renders to text that parses back to it, renders the same
    again, and validates unchanged."""
    TALLY.add("fuzz cases")
    text = render_where(valid)
    assert parse_where(text) == valid, text
    assert render_where(parse_where(text)) == text  # rendering is stable too
    assert validate_filter(parse_where(text), None, entity="Tickets") == valid


@FUZZ
@given(_filters())
def test_render_then_parse_gives_the_same_filter(flt: list[dict[str, Any]]) -> None:
    _round_trips(flt)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANY_SHAPE, st.booleans())
def test_parse_of_render_is_identity(flt: list[dict[str, Any]], udf: bool) -> None:
    if udf:  # one user-defined-field condition, with a name that needs quoting
        flt = [*flt, {"op": "eq", "field": "Customer Tier", "value": "Gold", "udf": True}]
    # A valid query is what the parser produces; the generator's shapes are normalised by one pass
    # (a parenthesised top-level 'and' group becomes the top-level list, as the language means it).
    _round_trips(parse_where(render_where(flt)))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["eq", "in", "or", "and", "exist", "like", "udf", "op", "field", "value", "items"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["op", "field", "value", "items", "udf", "filter", "x"]), inner, max_size=5)
    ),
    max_leaves=20,
)


@FUZZ
@given(_json)
def test_raw_json_only_raises_query_syntax_error(data: Any) -> None:
    import json

    from autotask_magic.entities._metadata import EntityFields

    fields = EntityFields.from_api("Tickets", {"fields": [{"name": "id", "dataType": "long"}]})
    text = json.dumps(data)
    TALLY.add("fuzz cases")
    try:
        validate_filter(parse_where(text), fields, entity="Tickets")
    except QuerySyntaxError as err:
        assert "\n" not in str(err)
