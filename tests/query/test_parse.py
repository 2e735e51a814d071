"""The query language: every construct, precedence, binding, raw JSON and every syntax error's column."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pytest

from autotask_magic._exceptions import QuerySyntaxError
from autotask_magic.query import MAX_DEPTH, error_pointer, parse_where, render_where


def one(text: str, params: dict | None = None) -> dict:
    (node,) = parse_where(text, params)
    return node


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("status = 5", "eq", 5),
        ("status != 5", "noteq", 5),
        ("status <> 5", "noteq", 5),
        ("status > 5", "gt", 5),
        ("status >= 5", "gte", 5),
        ("status < 5", "lt", 5),
        ("status <= 5", "lte", 5),
        ("title contains 'printer'", "contains", "printer"),
        ("title beginswith 'Re:'", "beginsWith", "Re:"),
        ('title endswith "!"', "endsWith", "!"),
        ("status in (1, 2, 3)", "in", [1, 2, 3]),
        ("status not in (1,2,)", "notIn", [1, 2]),
    ],
)
def test_operators(text: str, op: str, value: object) -> None:
    assert one(text) == {"op": op, "field": text.split(maxsplit=1)[0], "value": value}


def test_no_spaces_needed() -> None:
    assert one("status>=-5") == {"op": "gte", "field": "status", "value": -5}
    assert one("x!=1.5e3") == {"op": "noteq", "field": "x", "value": 1500.0}


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("dueDate exists", "exist"),
        ("dueDate not exists", "notExist"),
        ("dueDate = null", "notExist"),
        ("dueDate != null", "exist"),
        ("dueDate is null", "notExist"),
        ("dueDate is not null", "exist"),
        ("dueDate = NULL", "notExist"),
    ],
)
def test_null_and_exists(text: str, op: str) -> None:
    assert one(text) == {"op": op, "field": "dueDate"}


def test_keywords_case_insensitive_fields_as_written() -> None:
    got = parse_where("Status NOT IN (1) AND Title CONTAINS 'a' Or dueDate NOT EXISTS And X = TRUE")
    assert got == [
        {
            "op": "or",
            "items": [
                {
                    "op": "and",
                    "items": [
                        {"op": "notIn", "field": "Status", "value": [1]},
                        {"op": "contains", "field": "Title", "value": "a"},
                    ],
                },
                {
                    "op": "and",
                    "items": [
                        {"op": "notExist", "field": "dueDate"},
                        {"op": "eq", "field": "X", "value": True},
                    ],
                },
            ],
        }
    ]


def test_values() -> None:
    assert one("a = 'it''s'".replace("''", "\\'"))["value"] == "it's"
    assert one(r"a = 'tab\there\nline \\ \"q\" \u00e9'")["value"] == 'tab\there\nline \\ "q" é'
    assert one('a = "single \' inside"')["value"] == "single ' inside"
    assert one("a = 12345678901234567890")["value"] == 12345678901234567890
    assert one("a = .5")["value"] == 0.5
    assert one("a = -0.25")["value"] == -0.25
    assert one("a = true")["value"] is True
    assert one("a = False")["value"] is False
    assert one("a = ''")["value"] == ""


@pytest.mark.parametrize(
    "date",
    [
        "2026-01-01",
        "2026-01-01T10:30:00",
        "2026-01-01T10:30:00Z",
        "2026-11-27T14:05:09.123Z",
        "2026-01-01T10:30:00+02:00",
    ],
)
def test_iso_dates_quoted_or_bare_are_strings(date: str) -> None:
    assert one(f"createDate >= {date}")["value"] == date
    assert one(f"createDate >= '{date}'")["value"] == date


def test_precedence_and_binds_tighter() -> None:
    a, b, c = ({"op": "eq", "field": f, "value": 1} for f in "abc")
    assert parse_where("a = 1 or b = 1 and c = 1") == [{"op": "or", "items": [a, {"op": "and", "items": [b, c]}]}]
    assert parse_where("a = 1 and b = 1 or c = 1") == [{"op": "or", "items": [{"op": "and", "items": [a, b]}, c]}]
    assert parse_where("a = 1 and (b = 1 or c = 1)") == [a, {"op": "or", "items": [b, c]}]
    # Top-level and is flattened; nested same-op groups and redundant parentheses collapse.
    assert parse_where("(a = 1 and (b = 1 and c = 1))") == [a, b, c]
    assert parse_where("((a = 1)) or (b = 1 or c = 1)") == [{"op": "or", "items": [a, b, c]}]


def test_issue_example() -> None:
    text = """status != 5 and createDate >= '2026-01-01'
  and (priority in (1, 2) or title contains 'printer')
  and udf."Customer Tier" = :tier"""
    assert parse_where(text, {"tier": "Gold"}) == [
        {"op": "noteq", "field": "status", "value": 5},
        {"op": "gte", "field": "createDate", "value": "2026-01-01"},
        {
            "op": "or",
            "items": [
                {"op": "in", "field": "priority", "value": [1, 2]},
                {"op": "contains", "field": "title", "value": "printer"},
            ],
        },
        {"op": "eq", "field": "Customer Tier", "udf": True, "value": "Gold"},
    ]


def test_udf_fields() -> None:
    assert one('udf."Customer Tier" exists') == {"op": "exist", "field": "Customer Tier", "udf": True}
    assert one("UDF.Tier = 'x'") == {"op": "eq", "field": "Tier", "udf": True, "value": "x"}
    assert one("udf = 1") == {"op": "eq", "field": "udf", "value": 1}  # a standard field called udf


def test_crlf_comments_and_odd_whitespace() -> None:
    text = (
        "status = 5\r\n  and\u00a0priority = 1 # trailing comment\r\n-- full line comment\r\n and\u2003x = 'é😀'\ufeff"
    )
    assert parse_where(text) == [
        {"op": "eq", "field": "status", "value": 5},
        {"op": "eq", "field": "priority", "value": 1},
        {"op": "eq", "field": "x", "value": "é😀"},
    ]


def test_empty_text_is_no_filter() -> None:
    assert parse_where("") == []
    assert parse_where("  \n\t") == []
    assert parse_where("# just a comment\n") == []


class TestBinding:
    def test_scalars_are_json_values_not_text(self) -> None:
        evil = "x' or id >= 0 or title = 'y"
        assert one("title = :t", {"t": evil}) == {"op": "eq", "field": "title", "value": evil}
        assert one("a = :v", {"v": 3})["value"] == 3
        assert one("a = :v", {"v": 2.5})["value"] == 2.5
        assert one("a = :v", {"v": True})["value"] is True
        assert one("a = :v", {"v": decimal.Decimal("7")})["value"] == 7

    def test_none_becomes_not_exist(self) -> None:
        assert one("a = :v", {"v": None}) == {"op": "notExist", "field": "a"}
        assert one("a != :v", {"v": None}) == {"op": "exist", "field": "a"}

    def test_dates(self) -> None:
        assert one("d >= :v", {"v": dt.date(2026, 1, 2)})["value"] == "2026-01-02"
        assert one("d >= :v", {"v": dt.datetime(2026, 1, 2, 3, 4, 5)})["value"] == "2026-01-02T03:04:05"
        aware = dt.datetime(2026, 1, 2, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        assert one("d >= :v", {"v": aware})["value"] == "2026-01-02T03:00:00Z"

    def test_lists_for_in(self) -> None:
        assert one("s in :v", {"v": [1, 2]})["value"] == [1, 2]
        assert one("s not in :v", {"v": (3,)}) == {"op": "notIn", "field": "s", "value": [3]}
        assert one("s in :v", {"v": {2, 1}})["value"] == [1, 2]
        assert one("s in (:a, :b, 3)", {"a": 1, "b": "x"})["value"] == [1, "x", 3]

    def test_numpy_and_pandas_values(self) -> None:
        np = pytest.importorskip("numpy")
        assert one("s in :v", {"v": np.array([1, 2])})["value"] == [1, 2]
        assert one("s = :v", {"v": np.int64(4)})["value"] == 4

    @pytest.mark.parametrize(
        ("text", "params", "message"),
        [
            ("a = :missing", {}, "unknown parameter :missing at column 5"),
            ("a = :missing", None, "unknown parameter :missing at column 5"),
            ("a in :v", {"v": []}, "parameter :v is an empty list at column 6"),
            ("a in :v", {"v": "abc"}, "parameter :v must be a list"),
            ("a = :v", {"v": [1]}, "parameter :v is a list at column 5"),
            ("a = :v", {"v": {"k": 1}}, "cannot bind :v"),
            ("a = :v", {"v": float("nan")}, "cannot bind :v"),
            ("a = :v", {"v": object()}, "cannot bind :v"),
            ("a in :v", {"v": [1, None]}, "parameter :v contains None"),
        ],
    )
    def test_binding_errors(self, text: str, params: dict | None, message: str) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            parse_where(text, params)
        assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (
            "status =~ 5",
            8,
            "unknown operator '=~' at column 8 — use one of = != > >= < <= contains beginswith endswith in, not in, exists, not exists",
        ),
        ("status == 5", 8, "unknown operator '==' at column 8"),
        ("title like 'a'", 7, "unknown operator 'like' at column 7"),
        ("title startswith 'a'", 7, "did you mean beginswith?"),
        ("a = 1 && b = 2", 7, "unknown operator '&&'"),
        ("a not like 1", 7, "unknown operator 'not like'"),
        ("status", 7, "missing operator after 'status'"),
        ("status = ", 10, "missing value at end of query"),
        ("status = open", 10, "unquoted value 'open'"),
        ("(a = 1", 1, "unbalanced parentheses: '(' is never closed at column 1"),
        ("a = 1)", 6, "unbalanced parentheses: unexpected ')' at column 6"),
        ("(a = 1 b = 2)", 8, "expected ')' or and / or"),
        ("()", 2, "empty parentheses"),
        ("a = 1 and", 10, "unexpected end of query after 'and'"),
        ("a = 1 or or b = 1", 10, "expected a field name"),
        ("a = 1 b = 2", 7, "unexpected identifier 'b' after '1'"),
        ("a in ()", 7, "empty in list"),
        ("a in 1", 6, "expected '(' after 'in'"),
        ("a in (1 2)", 9, "expected ',' or ')'"),
        ("a in (1, null)", 10, "null is not allowed in an in list"),
        ("a in (1", 6, "'(' of the in list is never closed"),
        ("a = 'abc", 5, "unterminated string at column 5"),
        ("a = 'ab\ncd'", 5, "unterminated string"),
        (r"a = 'C:\data'", 8, "unknown escape '\\d'"),
        (r"a = '\u12'", 6, "invalid \\u escape"),
        ("a = 12abc", 5, "invalid number '12abc'"),
        ("a = 1.2.3", 5, "invalid number"),
        ("a > null", 5, "null cannot be compared with >"),
        ("a contains null", 12, "contains needs a value, not null"),
        ("a = \u201cx\u201d", 5, "typographic quote"),
        ("a = 1; b = 2", 6, "unexpected character ';'"),
        ("a.b = 1", 2, "unexpected '.' after 'a'"),
        ("udf. = 1", 6, "expected a user-defined field name"),
        ("udf.'' = 1", 5, "expected a user-defined field name"),
        ("udf.' ' = 1", 5, "expected a user-defined field name"),
        ("'title' = 1", 1, "expected a field name, found string"),
        ("udf.a = 1 and udf.b = 2", 15, "a second user-defined field condition at column 15"),
        ("a = 1e999", 5, "out of range"),
        ("a = :", 5, "':' must start a parameter name"),
        ("a = 1 and b is 3", 13, "unknown operator 'is'"),
        ("a\u00a0=\u00a0\u0007", 5, "unexpected character"),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_where(text)
    err = info.value
    assert message in str(err)
    assert "\n" not in str(err)
    assert err.text == text
    assert err.position == column - 1
    assert f"column {column}" in str(err)


def test_multiline_errors_name_the_line() -> None:
    text = "status = 5\r\n  and priority ~ 1"
    with pytest.raises(QuerySyntaxError) as info:
        parse_where(text)
    assert "at line 2, column 16" in str(info.value)
    assert text[info.value.position] == "~"
    assert error_pointer(info.value) == "  and priority ~ 1\n               ^"


def test_error_pointer_clips_long_lines() -> None:
    text = "a = 1 and " * 50_000 + "b ~ 2"
    with pytest.raises(QuerySyntaxError) as info:
        parse_where(text)
    line, caret = error_pointer(info.value, width=60).split("\n")
    assert len(line) <= 62
    assert line[caret.index("^")] == "~"


def test_deep_nesting_is_refused_clearly() -> None:
    ok = "(" * MAX_DEPTH + "a = 1" + ")" * MAX_DEPTH
    assert parse_where(ok) == [{"op": "eq", "field": "a", "value": 1}]
    deep = "(" * 100_000 + "a = 1" + ")" * 100_000
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_where(deep)
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_where("[" * 100_000 + "]" * 100_000)


def test_megabyte_cells_are_linear() -> None:
    # Bounded by counts, not timing: these must simply finish (pytest-timeout guards the test).
    big = " and ".join(f"f{i} = {i}" for i in range(60_000))
    assert len(big) > 1_000_000
    assert len(parse_where(big)) == 60_000
    for text in (
        "a = '" + "x" * 1_000_000,
        "a in (" + "1," * 100_000,
        "(" * 1_000_000,
        "a" * 1_000_000,
        "=" * 1_000_000,
    ):
        with pytest.raises(QuerySyntaxError):
            parse_where(text)
    assert len(parse_where("a = '" + "x" * 1_000_000 + "'")[0]["value"]) == 1_000_000


class TestRawJson:
    def test_list_dict_and_query_body(self) -> None:
        node = {"op": "eq", "field": "id", "value": 1}
        assert parse_where(json.dumps([node])) == [node]
        assert parse_where(json.dumps(node)) == [node]
        assert parse_where(json.dumps({"filter": [node], "IncludeFields": ["id"]})) == [node]
        assert parse_where("  \n" + json.dumps([node])) == [node]

    def test_normalizes_like_the_language(self) -> None:
        got = parse_where('[{"op":"EQ","field":"a","value":null},{"op":"beginswith","field":"b","value":"x"}]')
        assert got == [{"op": "notExist", "field": "a"}, {"op": "beginsWith", "field": "b", "value": "x"}]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('[{"op":"like","field":"a","value":1}]', "unknown operator 'like'"),
            ('[{"field":"a","value":1}]', 'has no "op"'),
            ('[{"op":"in","field":"a","value":[]}]', "in needs a non-empty list"),
            ('[{"op":"notIn","field":"a","value":3}]', "notIn needs a non-empty list"),
            ('[{"op":"exist","field":"a","value":3}]', "exist takes no value"),
            ('[{"op":"eq","field":"a"}]', 'needs a "value"'),
            ('[{"op":"eq","value":1}]', 'needs a "field"'),
            ('[{"op":"or","items":[]}]', 'needs a non-empty "items" list'),
            (
                '[{"op":"eq","field":"a","value":1,"udf":true},{"op":"eq","field":"b","value":1,"udf":true}]',
                "second user-defined",
            ),
            (
                '[{"op":"or","items":[{"op":"gte","field":"a","value":1,"udf":true},{"op":"eq","field":"b","value":1,"udf":true}]}]',
                "second user-defined",
            ),
            ("[1, 2]", "filter items must be objects"),
            ('{"a": 1}', 'has no "op"'),
            ('[{"op":"eq",', "invalid JSON filter"),
            ('{"op":"eq","field":"a","value":[1,2]}', "use in / notIn for lists"),
        ],
    )
    def test_errors(self, text: str, message: str) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            parse_where(text)
        assert message in str(info.value)
        assert "\n" not in str(info.value)

    def test_json_error_column(self) -> None:
        with pytest.raises(QuerySyntaxError) as info:
            parse_where('[{"op": eq}]')
        assert info.value.position == 8
        assert "column 9" in str(info.value)


class TestRender:
    def test_round_trip_examples(self) -> None:
        for text in [
            "status != 5 and (priority in (1, 2) or title contains 'it\\'s')",
            "udf.\"Customer Tier\" = 'Gold' and dueDate not exists and x exists",
            "a = 1 or b = 2 and c = 3",
            "(a = 1 or b = 2) and (c = 3 or d = 4 and e beginswith 'x')",
            "a = -1.5e-07 and b = true and c = 'line\\nbreak' and d not in ('x', 2)",
        ]:
            f = parse_where(text)
            assert parse_where(render_where(f)) == f

    def test_render_shape(self) -> None:
        f = parse_where("a = 1 or b = 2 and c = null")
        assert render_where(f) == "(a = 1 or (b = 2 and c not exists))"
        assert render_where([{"op": "eq", "field": "x", "value": "2026-01-01"}]) == "x = '2026-01-01'"

    @pytest.mark.parametrize(
        "bad",
        [
            [{"op": "like", "field": "a", "value": 1}],
            [{"op": "eq", "field": "two words", "value": 1}],
            [{"op": "eq", "field": "a", "value": {"x": 1}}],
            [{"op": "eq", "field": "a", "value": float("inf")}],
            [{"op": "in", "field": "a", "value": []}],
            [{"op": "or", "items": []}],
        ],
    )
    def test_unrenderable(self, bad: list) -> None:
        with pytest.raises(QuerySyntaxError):
            render_where(bad)
