"""Text -> Autotask JSON filter list: a recursive-descent parser over the lexemes of ``_lexer``.

    >>> parse_where("status != 5 and (priority in (1, 2) or title contains 'printer')")
    [{'op': 'noteq', 'field': 'status', 'value': 5},
     {'op': 'or', 'items': [{'op': 'in', 'field': 'priority', 'value': [1, 2]},
                            {'op': 'contains', 'field': 'title', 'value': 'printer'}]}]

``and`` binds tighter than ``or``; a top-level ``and`` is flattened into the list. ``:name`` binds a
Python value from ``params`` as a JSON value (never as text). ``= null`` / ``!= null`` become
``notExist`` / ``exist`` because the server's ``eq null`` matches nothing. Text starting with ``[`` or
``{`` is taken as a raw Autotask JSON filter and checked the same way.

The parser is a single left-to-right scan plus a recursive descent whose depth is capped, so any input
(a 1 MB cell, deep parentheses, odd Unicode) either parses in linear time or raises QuerySyntaxError.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import gc
import json
import math
from collections.abc import Mapping
from typing import Any

from .._exceptions import QuerySyntaxError
from ._filter import ParsedFilter, Span
from ._lexer import (
    COMMA,
    DATE,
    DOT,
    END,
    IDENT,
    LP,
    MAX_DEPTH,
    NUMBER,
    OPERATOR_HELP,
    PARAM,
    RESERVED,
    RP,
    STRING,
    SYM,
    Lexeme,
    lex,
    line_col,
    only_comments,
    op_hint,
    short,
    syntax_error,
)
from ._relative import ANCHORS, RelativeDate, match_relative
from ._validate import normalize

__all__ = ["BIND_HINT", "is_listlike", "parse_where"]

BIND_HINT = "bind str, int, float, bool, None, a date/datetime, or a list of them for in"

_WORD_OPS = {"contains": "contains", "beginswith": "beginsWith", "endswith": "endsWith"}
_WORD_HINTS = {
    "like": "use contains, beginswith or endswith",
    "startswith": "did you mean beginswith?",
    "starts": "did you mean beginswith?",
    "ends": "did you mean endswith?",
    "has": "did you mean contains?",
    "eq": "use =",
    "ne": "use !=",
    "neq": "use !=",
    "noteq": "use !=",
    "gt": "use >",
    "gte": "use >=",
    "lt": "use <",
    "lte": "use <=",
    "exist": "did you mean exists?",
    "notexist": "use not exists",
    "notin": "use not in",
}


def parse_where(text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Parse the query language (or a raw JSON filter) into an Autotask JSON filter list.

    Raises QuerySyntaxError with the column of the problem. An empty or blank text gives ``[]``
    (the caller decides what "no filter" means, usually all rows).
    """
    if not isinstance(text, str):
        raise QuerySyntaxError(f"the query must be text, got {type(text).__name__}", hint="pass a string")
    stripped = text.lstrip(" \t\r\n\ufeff")
    if not stripped or only_comments(stripped):
        return ParsedFilter([], text)
    if stripped[0] in "[{":
        return _parse_json(text, len(text) - len(stripped))
    # Huge inputs make millions of small objects; generational GC would rescan them again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Parser(text, params).parse()
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse_json(text: str, offset: int) -> ParsedFilter:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise syntax_error(
            text, exc.pos, f"invalid JSON filter: {exc.msg}", "fix the JSON, or write the query language instead"
        ) from None
    except RecursionError:
        raise syntax_error(text, offset, "JSON filter nested too deeply", "simplify the filter") from None
    if isinstance(data, Mapping) and "filter" in data and "op" not in data:
        data = data["filter"]  # a whole query body pasted in
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise syntax_error(
            text,
            offset,
            "a JSON filter must be a list of conditions",
            'write [{"op": "eq", "field": "id", "value": 1}]',
        )
    return ParsedFilter(normalize(data, None, entity=None, text=text, offset=offset), text)


class _Parser:
    """or_expr := and_expr ("or" and_expr)*; and_expr := primary ("and" primary)*;
    primary := "(" or_expr ")" | condition; condition := field operator [value | list]."""

    def __init__(self, text: str, params: Mapping[str, Any] | None) -> None:
        self.text = text
        self.params = params
        self._stream = lex(text)
        self.tok = next(self._stream)
        self.prev: Lexeme | None = None
        self.spans: dict[int, tuple[dict[str, Any], Span]] = {}
        self.udf_seen: int | None = None

    # -- helpers
    def advance(self) -> Lexeme:
        tok = self.tok
        if tok.kind != END:
            self.prev = tok
            self.tok = next(self._stream)
        return tok

    def is_word(self, tok: Lexeme, *words: str) -> bool:
        return tok.kind == IDENT and tok.value.lower() in words

    def fail(self, tok: Lexeme, what: str, hint: str | None) -> QuerySyntaxError:
        return syntax_error(self.text, tok.pos, what, hint)

    def describe(self, tok: Lexeme) -> str:
        if tok.kind == END:
            return "end of query"
        return f"{tok.kind} {short(tok.text)!r}" if tok.kind not in (LP, RP, COMMA, DOT) else repr(tok.text)

    # -- grammar
    def parse(self) -> ParsedFilter:
        if self.tok.kind == END:
            raise self.fail(self.tok, "empty query", "write a condition like status != 5, or leave the body empty")
        node = self.or_expr(0)
        tok = self.tok
        if tok.kind == RP:
            raise self.fail(tok, "unbalanced parentheses: unexpected ')'", "remove it or add a matching '('")
        if tok.kind != END:
            prev = self.prev or tok
            raise self.fail(
                tok, f"unexpected {self.describe(tok)} after {short(prev.text)!r}", "join conditions with and / or"
            )
        items = node["items"] if node.get("op") == "and" and "field" not in node else [node]
        return ParsedFilter(items, self.text, self.spans)

    def or_expr(self, depth: int) -> dict[str, Any]:
        items = [self.and_expr(depth)]
        while self.is_word(self.tok, "or"):
            self.advance()
            items.append(self.and_expr(depth))
        if len(items) == 1:
            return items[0]
        return {"op": "or", "items": _flatten("or", items)}

    def and_expr(self, depth: int) -> dict[str, Any]:
        items = [self.primary(depth)]
        while self.is_word(self.tok, "and"):
            self.advance()
            items.append(self.primary(depth))
        if len(items) == 1:
            return items[0]
        return {"op": "and", "items": _flatten("and", items)}

    def primary(self, depth: int) -> dict[str, Any]:
        tok = self.tok
        if tok.kind != LP:
            return self.condition()
        if depth >= MAX_DEPTH:
            raise self.fail(tok, f"parentheses nested too deeply (more than {MAX_DEPTH})", "simplify the query")
        self.advance()
        if self.tok.kind == RP:
            raise self.fail(self.tok, "empty parentheses", "put a condition inside ( )")
        node = self.or_expr(depth + 1)
        if self.tok.kind != RP:
            if self.tok.kind == END:
                raise self.fail(
                    tok,
                    "unbalanced parentheses: '(' is never closed",
                    f"add ')' at the end (column {line_col(self.text, len(self.text))[1]})",
                )
            raise self.fail(
                self.tok,
                f"expected ')' or and / or, found {self.describe(self.tok)}",
                "close the '(' or join conditions with and / or",
            )
        self.advance()
        return node

    def field(self) -> tuple[str, bool, Lexeme]:
        """The field name of a condition, whether it is a UDF, and the lexeme it starts at."""
        tok = self.tok
        if tok.kind == END:
            prev = self.prev
            where = f"after {short(prev.text)!r}" if prev is not None else ""
            raise self.fail(tok, f"unexpected end of query {where}".strip(), "add a condition like status != 5")
        if tok.kind == RP:
            raise self.fail(tok, "unbalanced parentheses: unexpected ')'", "remove it or add a matching '('")
        if tok.kind != IDENT or tok.value.lower() in RESERVED:
            hint = "a condition starts with a field name, e.g. status = 5"
            if tok.kind == STRING:
                hint = 'field names are not quoted; write udf."Name" for a user-defined field'
            raise self.fail(tok, f"expected a field name, found {self.describe(tok)}", hint)
        self.advance()
        if tok.value.lower() == "udf" and self.tok.kind == DOT:
            return self.udf_field(tok), True, tok
        if self.tok.kind == DOT:
            raise self.fail(
                self.tok, f"unexpected '.' after {tok.value!r}", 'write udf."Field Name" for a user-defined field'
            )
        return tok.value, False, tok

    def udf_field(self, udf_tok: Lexeme) -> str:
        """The name after ``udf.`` (one UDF condition per query, as the server allows)."""
        self.advance()
        name_tok = self.tok
        if name_tok.kind not in (STRING, IDENT) or (name_tok.kind == STRING and not name_tok.value.strip()):
            raise self.fail(name_tok, "expected a user-defined field name after 'udf.'", 'write udf."Field Name"')
        self.advance()
        if self.udf_seen is not None:
            raise self.fail(
                udf_tok, "a second user-defined field condition", "Autotask allows only one udf condition per query"
            )
        self.udf_seen = udf_tok.pos
        return name_tok.value

    def condition(self) -> dict[str, Any]:
        name, udf, ftok = self.field()
        optok = self.tok
        node: dict[str, Any] = {"op": "", "field": name}
        if udf:
            node["udf"] = True
        value_pos: int | None
        if optok.kind == SYM:
            value_pos = self.symbol_op(optok, node)
        elif optok.kind == IDENT:
            value_pos = self.word_op(optok, node)
        elif optok.kind == END:
            raise self.fail(
                optok, f"missing operator after {short(ftok.text if not udf else 'udf.' + name)!r}", OPERATOR_HELP
            )
        else:
            raise self.fail(optok, f"expected an operator, found {self.describe(optok)}", OPERATOR_HELP)
        self.spans[id(node)] = (node, Span(ftok.pos, optok.pos, value_pos))
        return node

    def symbol_op(self, optok: Lexeme, node: dict[str, Any]) -> int:
        """``= != <> > >= < <=`` and their value into ``node``; returns where the value starts."""
        self.advance()
        op = optok.value
        vtok = self.tok
        value = self.value()
        if value is None:
            if op not in ("eq", "noteq"):
                raise self.fail(
                    vtok, f"null cannot be compared with {optok.text}", "use = null, != null, exists or not exists"
                )
            op = "notExist" if op == "eq" else "exist"
        else:
            node["value"] = value
        node["op"] = op
        return vtok.pos

    def word_op(self, optok: Lexeme, node: dict[str, Any]) -> int | None:
        """A worded operator (contains, in, exists, not …, is …) into ``node``; returns where its value starts."""
        word = optok.value.lower()
        self.advance()
        if word in _WORD_OPS:
            vtok = self.tok
            value = self.value()
            if value is None:
                raise self.fail(vtok, f"{word} needs a value, not null", "use exists / not exists to test for a value")
            node["op"], node["value"] = _WORD_OPS[word], value
            return vtok.pos
        if word == "in":
            value_pos = self.tok.pos
            node["op"], node["value"] = "in", self.in_list(optok)
            return value_pos
        if word == "exists":
            node["op"] = "exist"
            return None
        if word == "not":
            return self.not_op(node)
        if word == "is":
            node["op"] = self.is_op(optok)
            return None
        raise self.fail(optok, f"unknown operator {short(optok.text)!r}", op_hint(_WORD_HINTS.get(word)))

    def not_op(self, node: dict[str, Any]) -> int | None:
        nxt = self.tok
        if self.is_word(nxt, "in"):
            self.advance()
            value_pos = self.tok.pos
            node["op"], node["value"] = "notIn", self.in_list(nxt)
            return value_pos
        if self.is_word(nxt, "exists"):
            self.advance()
            node["op"] = "notExist"
            return None
        raise self.fail(nxt, f"unknown operator 'not {short(nxt.text)}'", OPERATOR_HELP)

    def is_op(self, optok: Lexeme) -> str:
        if self.is_word(self.tok, "null"):
            self.advance()
            return "notExist"
        if self.is_word(self.tok, "not"):
            self.advance()
            if not self.is_word(self.tok, "null"):
                raise self.fail(self.tok, "expected null after 'is not'", "write is not null, or use exists")
            self.advance()
            return "exist"
        raise self.fail(optok, "unknown operator 'is'", op_hint("write is null / is not null"))

    def in_list(self, optok: Lexeme) -> list[Any]:
        tok = self.tok
        if tok.kind == PARAM:
            self.advance()
            values = self.bind(tok, as_list=True)
            if not values:
                raise self.fail(
                    tok, f"parameter :{tok.value} is an empty list", f"{optok.text} needs at least one value"
                )
            return values
        if tok.kind != LP:
            raise self.fail(
                tok,
                f"expected '(' after {short(optok.text)!r}, found {self.describe(tok)}",
                "write in (1, 2, 3) or in :name",
            )
        self.advance()
        if self.tok.kind == RP:
            raise self.fail(self.tok, f"empty {optok.text} list", "put at least one value inside ( )")
        items: list[Any] = []
        while True:
            vtok = self.tok
            value = self.value()
            if value is None:
                raise self.fail(vtok, "null is not allowed in an in list", "use exists / not exists for null")
            items.append(value)
            if self.tok.kind == COMMA:
                self.advance()
                if self.tok.kind == RP:  # trailing comma
                    break
                continue
            if self.tok.kind == RP:
                break
            if self.tok.kind == END:
                raise self.fail(tok, "unbalanced parentheses: '(' of the in list is never closed", "add ')'")
            raise self.fail(
                self.tok,
                f"expected ',' or ')' in the list, found {self.describe(self.tok)}",
                "separate values with commas",
            )
        self.advance()
        return items

    def value(self) -> Any:
        tok = self.tok
        kind = tok.kind
        if kind in (STRING, NUMBER, DATE):
            self.advance()
            return tok.value
        if kind == PARAM:
            self.advance()
            return self.bind(tok, as_list=False)
        if kind == IDENT:
            word = tok.value.lower()
            if word in ("true", "false"):
                self.advance()
                return word == "true"
            if word == "null":
                self.advance()
                return None
            if word in ANCHORS:
                return self.relative(tok)
            raise self.fail(
                tok,
                f"unquoted value {short(tok.text)!r}",
                f"quote text, e.g. '{short(tok.text)}', or bind a variable with :{short(tok.text)}",
            )
        if kind == END:
            raise self.fail(tok, "missing value at end of query", "add a value, e.g. 5 or 'text'")
        raise self.fail(
            tok, f"expected a value, found {self.describe(tok)}", "use a number, 'text', true/false, null or :name"
        )

    def relative(self, tok: Lexeme) -> RelativeDate:
        """``today - 30d`` (``_relative``): read from the text, then the lexer resumes after it."""
        found = match_relative(self.text, tok.pos)
        if found is None:
            raise self.fail(
                tok, f"incomplete relative date after {tok.text!r}", "write e.g. today - 30d (units m h d w)"
            )
        value, end = found
        self._stream = lex(self.text, end)
        self.prev, self.tok = tok, next(self._stream)
        return value

    def bind(self, tok: Lexeme, *, as_list: bool) -> Any:
        """The JSON value of parameter ``:name`` (a list of them for ``in``)."""
        name = tok.value
        if self.params is None or name not in self.params:
            raise self.fail(
                tok, f"unknown parameter :{name}", f"define {name} in the notebook (or pass params={{'{name}': …}})"
            )
        raw = self.params[name]
        if not as_list:
            if is_listlike(raw) and not isinstance(raw, (str, bytes, Mapping)):
                raise self.fail(tok, f"parameter :{name} is a list", "use in :name / not in :name for lists")
            return self.json_value(tok, raw)
        if isinstance(raw, (str, bytes, Mapping)) or not is_listlike(raw):
            raise self.fail(
                tok,
                f"parameter :{name} must be a list for in / not in, got {type(raw).__name__}",
                "bind a list or tuple",
            )
        out = []
        for item in _list_items(raw):
            v = self.json_value(tok, item)
            if v is None:
                raise self.fail(tok, f"parameter :{name} contains None", "use exists / not exists for null")
            out.append(v)
        return out

    def json_value(self, tok: Lexeme, raw: Any) -> Any:
        try:
            return _json_value(raw)
        except TypeError as exc:
            raise self.fail(tok, f"cannot bind :{tok.value}: {exc}", BIND_HINT) from None


def _flatten(op: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.get("op") == op and "field" not in item:
            out.extend(item["items"])
        else:
            out.append(item)
    return out


def is_listlike(value: Any) -> bool:
    """True for lists, tuples, sets, ranges and array-likes (numpy arrays, pandas Series / Index)."""
    if isinstance(value, (list, tuple, set, frozenset, range)):
        return True
    # numpy arrays / pandas Series and Index; numpy scalars have tolist() too but ndim == 0
    return hasattr(value, "tolist") and getattr(value, "ndim", 1) != 0


def _list_items(value: Any) -> list[Any]:
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
        if not isinstance(value, list):
            value = [value]
    return list(value)


def _json_value(value: Any) -> Any:
    """A JSON-ready scalar for a bound Python value (TypeError when it has no JSON form)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
            return value.isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise TypeError(f"{value!r} is not a finite number")
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        try:
            item = value.item()
        except (ValueError, TypeError):
            raise TypeError(f"type {type(value).__name__} has no JSON form") from None
        if item is not value:
            return _json_value(item)
    if getattr(value, "ndim", 0):  # a DataFrame: "value != value" would be a frame, not a bool
        raise TypeError(f"a {type(value).__name__} is a table, not a value; bind one column, e.g. df['id']")
    if value != value:  # noqa: PLR0124 - NaN, pandas NA and NaT are the values unequal to themselves
        return None
    raise TypeError(f"type {type(value).__name__} has no JSON form")
