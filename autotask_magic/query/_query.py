"""The query language of ``%%autotask query`` and ``client.query(where=...)``.

    >>> parse_where("status != 5 and (priority in (1, 2) or title contains 'printer')")
    [{'op': 'noteq', 'field': 'status', 'value': 5},
     {'op': 'or', 'items': [{'op': 'in', 'field': 'priority', 'value': [1, 2]},
                            {'op': 'contains', 'field': 'title', 'value': 'printer'}]}]

The output is an Autotask JSON filter list. ``and`` binds tighter than ``or``; a top-level ``and`` is
flattened into the list. ``:name`` binds a Python value from ``params`` as a JSON value (never as text).
``= null`` / ``!= null`` become ``notExist`` / ``exist`` because the server's ``eq null`` matches nothing.
Text starting with ``[`` or ``{`` is taken as a raw Autotask JSON filter and checked the same way.

The parser is a single left-to-right scan plus a recursive descent whose depth is capped, so any input
(a 1 MB cell, deep parentheses, odd Unicode) either parses in linear time or raises QuerySyntaxError.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import gc
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._exceptions import QuerySyntaxError

if TYPE_CHECKING:  # pragma: no cover
    from ..entities._metadata import EntityFields

__all__ = [
    "MAX_DEPTH",
    "OPERATORS",
    "ParsedFilter",
    "error_pointer",
    "parse_where",
    "render_where",
    "validate_filter",
]

#: Condition operators the server understands (groups are ``and`` / ``or``).
OPERATORS = (
    "eq", "noteq", "gt", "gte", "lt", "lte",
    "beginsWith", "endsWith", "contains", "exist", "notExist", "in", "notIn",
)  # fmt: skip
_GROUPS = ("and", "or")
_OP_CANON = {op.lower(): op for op in OPERATORS + _GROUPS}
_NO_VALUE = frozenset({"exist", "notExist"})
_LIST_OPS = frozenset({"in", "notIn"})

#: Deepest parenthesis / group nesting accepted.
MAX_DEPTH = 32

_OPERATOR_HELP = "use one of = != > >= < <= contains beginswith endswith in, not in, exists, not exists"

_SYMBOL_OPS = {"=": "eq", "!=": "noteq", "<>": "noteq", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_WORD_OPS = {"contains": "contains", "beginswith": "beginsWith", "endswith": "endsWith"}
_RENDER_OPS = {
    "eq": "=", "noteq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
    "contains": "contains", "beginsWith": "beginswith", "endsWith": "endswith",
}  # fmt: skip
_SYMBOL_HINTS = {
    "==": "use = for equality",
    "=<": "did you mean <=?",
    "=>": "did you mean >=?",
    "!": "use != or not in / not exists",
    "&&": "use and",
    "&": "use and",
    "||": "use or",
    "|": "use or",
    "=~": None,
}
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

# Token kinds
_IDENT, _STRING, _NUMBER, _DATE, _PARAM, _SYM, _LP, _RP, _COMMA, _DOT, _END = (
    "identifier", "string", "number", "date", "parameter", "operator", "(", ")", ",", ".", "end",
)  # fmt: skip

_WS = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_IDENT_RE = re.compile(r"[^\W\d]\w*")
_PARAM_RE = re.compile(r":([^\W\d]\w*)")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_SYM_RE = re.compile(r"[=!<>~&|^]+")
_STRING_BODY = {"'": re.compile(r"[^'\\\r\n]*"), '"': re.compile(r'[^"\\\r\n]*')}
_PLAIN_IDENT = re.compile(r"[^\W\d]\w*\Z")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "0": "\0", "/": "/", "b": "\b", "f": "\f"}
_SMART_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb"


class _Token(NamedTuple):
    kind: str
    value: Any
    pos: int
    end: int
    text: str


class _Span(NamedTuple):
    field: int
    op: int
    value: int | None


class ParsedFilter(list):
    """A filter list parsed from text: equal to a plain list, but remembers where each node came from.

    ``validate_filter`` uses this to point at the column of an unknown field.
    """

    text: str
    _spans: dict[int, tuple[dict[str, Any], _Span]]

    def __init__(self, items: Sequence[dict[str, Any]] = (), text: str = "") -> None:
        super().__init__(items)
        self.text = text
        self._spans = {}

    def span(self, node: Mapping[str, Any]) -> _Span | None:
        """Where ``node`` (an object of this filter) was written, if it was parsed from text."""
        hit = self._spans.get(id(node))
        return hit[1] if hit is not None and hit[0] is node else None


# ---------------------------------------------------------------------------------------------- errors


def _line_col(text: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def _where(text: str, pos: int) -> str:
    line, col = _line_col(text, pos)
    if "\n" in text.rstrip("\r\n"):
        return f"at line {line}, column {col}"
    return f"at column {col}"


def _error(text: str, pos: int, what: str, hint: str | None) -> QuerySyntaxError:
    # An error at the end of input points just after the last token, not at the empty line a cell's
    # trailing newline leaves ("at line 2, column 1" under nothing).
    end = text.find("\n", len(text.rstrip()))
    pos = min(pos, len(text) if end == -1 else end)
    err = QuerySyntaxError(f"{what} {_where(text, pos)}", hint=hint)
    err.text = text
    err.position = max(0, min(pos, len(text)))
    return err


def _short(s: str, limit: int = 40) -> str:
    s = s.replace("\r", "\\r").replace("\n", "\\n")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def error_pointer(err: QuerySyntaxError, *, width: int = 100) -> str:
    """Two display lines: the offending source line (clipped to ``width``) and a caret under the column.

    Returns ``""`` when the error carries no text or position.
    """
    text, pos = err.text, err.position
    if text is None or pos is None:
        return ""
    pos = max(0, min(pos, len(text)))
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end != -1 else len(text)].rstrip("\r")
    col = pos - start
    # Clip very long lines (a 1 MB cell) to a window around the column.
    left = max(0, min(col - width // 2, len(line) - width))
    shown = line[left : left + width]
    prefix = "…" if left > 0 else ""
    suffix = "…" if left + width < len(line) else ""
    shown = "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in shown)
    caret_col = len(prefix) + col - left
    pad = "".join("\t" if ch == "\t" else " " for ch in shown[: col - left])
    return f"{prefix}{shown}{suffix}\n{' ' * len(prefix)}{pad}{' ' * max(0, caret_col - len(prefix) - len(pad))}^"


# ---------------------------------------------------------------------------------------------- lexer


def _tokens(text: str) -> Iterator[_Token]:
    """Tokens of ``text`` one by one, so an error early in a huge text is reported without lexing the rest."""
    n = len(text)
    i = 0
    while True:
        m = _WS.match(text, i)
        if m:
            i = m.end()
        if i >= n:
            break
        ch = text[i]
        if ch == "#" or text.startswith("--", i):
            # Comment to end of line.
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        if ch == "(":
            yield _Token(_LP, ch, i, i + 1, ch)
            i += 1
        elif ch == ")":
            yield _Token(_RP, ch, i, i + 1, ch)
            i += 1
        elif ch == ",":
            yield _Token(_COMMA, ch, i, i + 1, ch)
            i += 1
        elif ch == ".":
            m = _NUMBER_RE.match(text, i)
            if m and m.end() > i + 1:
                tok = _number(text, m)
                yield tok
                i = tok.end
            else:
                yield _Token(_DOT, ch, i, i + 1, ch)
                i += 1
        elif ch in "'\"":
            tok = _string(text, i)
            yield tok
            i = tok.end
        elif ch == ":":
            m = _PARAM_RE.match(text, i)
            if not m:
                raise _error(text, i, "':' must start a parameter name", "write :name to bind a Python variable")
            yield _Token(_PARAM, m.group(1), i, m.end(), m.group(0))
            i = m.end()
        elif ch.isdigit() or (ch == "-" and i + 1 < n and (text[i + 1].isdigit() or text[i + 1] == ".")):
            m = _DATE_RE.match(text, i)
            if m and not _ident_char(text, m.end()):
                yield _Token(_DATE, m.group(0), i, m.end(), m.group(0))
                i = m.end()
                continue
            m = _NUMBER_RE.match(text, i)
            if not m:
                raise _error(text, i, f"unexpected character {ch!r}", "write a number like -1.5")
            tok = _number(text, m)
            yield tok
            i = tok.end
        elif ch in "=!<>~&|^":
            m = _SYM_RE.match(text, i)
            assert m is not None
            sym = m.group(0)
            if sym not in _SYMBOL_OPS:
                hint = _SYMBOL_HINTS.get(sym)
                raise _error(text, i, f"unknown operator {sym!r}", _op_hint(hint))
            yield _Token(_SYM, _SYMBOL_OPS[sym], i, m.end(), sym)
            i = m.end()
        else:
            m = _IDENT_RE.match(text, i)
            if m:
                yield _Token(_IDENT, m.group(0), i, m.end(), m.group(0))
                i = m.end()
            elif ch in _SMART_QUOTES:
                raise _error(text, i, f"typographic quote {ch!r}", "use plain ' or \" quotes around strings")
            else:
                raise _error(text, i, f"unexpected character {_short(ch)!r} (U+{ord(ch):04X})", _fix_char_hint(ch))
    yield _Token(_END, None, n, n, "")


def _op_hint(hint: str | None) -> str:
    return f"{hint} (operators: {_OPERATOR_HELP[len('use one of ') :]})" if hint else _OPERATOR_HELP


def _fix_char_hint(ch: str) -> str:
    if ch in "[]{}":
        return "use parentheses for grouping and in (…) lists; a raw JSON filter must start with [ or {"
    if ch == ";":
        return "join conditions with and / or"
    if ch == "\\":
        return "backslashes are only allowed inside quoted strings"
    return "quote values that contain it, e.g. 'a*b'"


def _ident_char(text: str, i: int) -> bool:
    return i < len(text) and (text[i].isalnum() or text[i] == "_")


def _number(text: str, m: re.Match[str]) -> _Token:
    raw = m.group(0)
    end = m.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        while end < len(text) and (text[end].isalnum() or text[end] in "_."):
            end += 1
        raise _error(
            text, m.start(), f"invalid number {_short(text[m.start() : end])!r}", "quote text values, e.g. 'A1'"
        )
    value: int | float
    if "." in raw or "e" in raw or "E" in raw:
        value = float(raw)
        if not math.isfinite(value):
            raise _error(text, m.start(), f"number {_short(raw)!r} is out of range", "use a smaller number")
    else:
        value = int(raw)
    return _Token(_NUMBER, value, m.start(), end, raw)


def _string(text: str, start: int) -> _Token:
    quote = text[start]
    body = _STRING_BODY[quote]
    parts: list[str] = []
    i = start + 1
    n = len(text)
    while True:
        m = body.match(text, i)
        assert m is not None
        parts.append(m.group(0))
        i = m.end()
        if i >= n or text[i] in "\r\n":
            raise _error(text, start, "unterminated string", f"close it with {quote} on the same line")
        ch = text[i]
        if ch == quote:
            i += 1
            break
        # Backslash escape.
        if i + 1 >= n:
            raise _error(text, start, "unterminated string", f"close it with {quote} on the same line")
        esc = text[i + 1]
        if esc in _ESCAPES:
            parts.append(_ESCAPES[esc])
            i += 2
        elif esc == "u":
            hexdigits = text[i + 2 : i + 6]
            if len(hexdigits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in hexdigits):
                raise _error(text, i, "invalid \\u escape", "write \\u followed by 4 hex digits, e.g. \\u00e9")
            parts.append(chr(int(hexdigits, 16)))
            i += 6
        else:
            raise _error(text, i, f"unknown escape '\\{_short(esc)}'", "write \\\\ for a backslash")
    value = "".join(parts)
    return _Token(_STRING, value, start, i, text[start:i])


# ---------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, params: Mapping[str, Any] | None) -> None:
        self.text = text
        self.params = params
        self._stream = _tokens(text)
        self.cur = next(self._stream)
        self.prev: _Token | None = None
        self.spans: dict[int, tuple[dict[str, Any], _Span]] = {}
        self.udf_seen: int | None = None

    # -- helpers
    @property
    def tok(self) -> _Token:
        return self.cur

    def advance(self) -> _Token:
        tok = self.cur
        if tok.kind != _END:
            self.prev = tok
            self.cur = next(self._stream)
        return tok

    def is_word(self, tok: _Token, *words: str) -> bool:
        return tok.kind == _IDENT and tok.value.lower() in words

    def fail(self, tok: _Token, what: str, hint: str | None) -> QuerySyntaxError:
        return _error(self.text, tok.pos, what, hint)

    def describe(self, tok: _Token) -> str:
        if tok.kind == _END:
            return "end of query"
        return f"{tok.kind} {_short(tok.text)!r}" if tok.kind not in (_LP, _RP, _COMMA, _DOT) else repr(tok.text)

    # -- grammar
    def parse(self) -> ParsedFilter:
        if self.tok.kind == _END:
            raise self.fail(self.tok, "empty query", "write a condition like status != 5, or leave the body empty")
        node = self.or_expr(0)
        tok = self.tok
        if tok.kind == _RP:
            raise self.fail(tok, "unbalanced parentheses: unexpected ')'", "remove it or add a matching '('")
        if tok.kind != _END:
            prev = self.prev or tok
            raise self.fail(
                tok, f"unexpected {self.describe(tok)} after {_short(prev.text)!r}", "join conditions with and / or"
            )
        items = node["items"] if node.get("op") == "and" and "field" not in node else [node]
        result = ParsedFilter(items, self.text)
        result._spans = self.spans
        return result

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
        if tok.kind == _LP:
            if depth >= MAX_DEPTH:
                raise self.fail(tok, f"parentheses nested too deeply (more than {MAX_DEPTH})", "simplify the query")
            self.advance()
            if self.tok.kind == _RP:
                raise self.fail(self.tok, "empty parentheses", "put a condition inside ( )")
            node = self.or_expr(depth + 1)
            if self.tok.kind != _RP:
                if self.tok.kind == _END:
                    raise self.fail(
                        tok,
                        "unbalanced parentheses: '(' is never closed",
                        f"add ')' at the end (column {_line_col(self.text, len(self.text))[1]})",
                    )
                raise self.fail(
                    self.tok,
                    f"expected ')' or and / or, found {self.describe(self.tok)}",
                    "close the '(' or join conditions with and / or",
                )
            self.advance()
            return node
        return self.condition()

    def field(self) -> tuple[str, bool, _Token]:
        tok = self.tok
        if tok.kind == _END:
            prev = self.prev
            where = f"after {_short(prev.text)!r}" if prev is not None else ""
            raise self.fail(tok, f"unexpected end of query {where}".strip(), "add a condition like status != 5")
        if tok.kind == _RP:
            raise self.fail(tok, "unbalanced parentheses: unexpected ')'", "remove it or add a matching '('")
        if tok.kind != _IDENT or tok.value.lower() in _RESERVED:
            hint = "a condition starts with a field name, e.g. status = 5"
            if tok.kind == _STRING:
                hint = 'field names are not quoted; write udf."Name" for a user-defined field'
            raise self.fail(tok, f"expected a field name, found {self.describe(tok)}", hint)
        self.advance()
        if tok.value.lower() == "udf" and self.tok.kind == _DOT:
            self.advance()
            name_tok = self.tok
            if name_tok.kind not in (_STRING, _IDENT) or (name_tok.kind == _STRING and not name_tok.value.strip()):
                raise self.fail(name_tok, "expected a user-defined field name after 'udf.'", 'write udf."Field Name"')
            self.advance()
            if self.udf_seen is not None:
                raise self.fail(
                    tok, "a second user-defined field condition", "Autotask allows only one udf condition per query"
                )
            self.udf_seen = tok.pos
            return name_tok.value, True, tok
        if self.tok.kind == _DOT:
            raise self.fail(
                self.tok, f"unexpected '.' after {tok.value!r}", 'write udf."Field Name" for a user-defined field'
            )
        return tok.value, False, tok

    def condition(self) -> dict[str, Any]:
        name, udf, ftok = self.field()
        optok = self.tok
        node: dict[str, Any] = {"op": "", "field": name}
        if udf:
            node["udf"] = True
        value_pos: int | None = None
        if optok.kind == _SYM:
            self.advance()
            op = optok.value
            vtok = self.tok
            value_pos = vtok.pos
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
        elif optok.kind == _IDENT:
            word = optok.value.lower()
            self.advance()
            if word in _WORD_OPS:
                vtok = self.tok
                value_pos = vtok.pos
                value = self.value()
                if value is None:
                    raise self.fail(
                        vtok, f"{word} needs a value, not null", "use exists / not exists to test for a value"
                    )
                node["op"], node["value"] = _WORD_OPS[word], value
            elif word == "in":
                value_pos = self.tok.pos
                node["op"], node["value"] = "in", self.in_list(optok)
            elif word == "exists":
                node["op"] = "exist"
            elif word == "not":
                nxt = self.tok
                if self.is_word(nxt, "in"):
                    self.advance()
                    value_pos = self.tok.pos
                    node["op"], node["value"] = "notIn", self.in_list(nxt)
                elif self.is_word(nxt, "exists"):
                    self.advance()
                    node["op"] = "notExist"
                else:
                    raise self.fail(nxt, f"unknown operator 'not {_short(nxt.text)}'", _OPERATOR_HELP)
            elif word == "is":
                if self.is_word(self.tok, "null"):
                    self.advance()
                    node["op"] = "notExist"
                elif self.is_word(self.tok, "not"):
                    self.advance()
                    if not self.is_word(self.tok, "null"):
                        raise self.fail(self.tok, "expected null after 'is not'", "write is not null, or use exists")
                    self.advance()
                    node["op"] = "exist"
                else:
                    raise self.fail(optok, "unknown operator 'is'", _op_hint("write is null / is not null"))
            else:
                hint = _WORD_HINTS.get(word)
                raise self.fail(optok, f"unknown operator {_short(optok.text)!r}", _op_hint(hint))
        elif optok.kind == _END:
            raise self.fail(
                optok, f"missing operator after {_short(ftok.text if not udf else 'udf.' + name)!r}", _OPERATOR_HELP
            )
        else:
            raise self.fail(optok, f"expected an operator, found {self.describe(optok)}", _OPERATOR_HELP)
        self.spans[id(node)] = (node, _Span(ftok.pos, optok.pos, value_pos))
        return node

    def in_list(self, optok: _Token) -> list[Any]:
        tok = self.tok
        if tok.kind == _PARAM:
            self.advance()
            values = self.bind(tok, as_list=True)
            if not values:
                raise self.fail(
                    tok, f"parameter :{tok.value} is an empty list", f"{optok.text} needs at least one value"
                )
            return values
        if tok.kind != _LP:
            raise self.fail(
                tok,
                f"expected '(' after {_short(optok.text)!r}, found {self.describe(tok)}",
                "write in (1, 2, 3) or in :name",
            )
        self.advance()
        if self.tok.kind == _RP:
            raise self.fail(self.tok, f"empty {optok.text} list", "put at least one value inside ( )")
        items: list[Any] = []
        while True:
            vtok = self.tok
            value = self.value()
            if value is None:
                raise self.fail(vtok, "null is not allowed in an in list", "use exists / not exists for null")
            items.append(value)
            if self.tok.kind == _COMMA:
                self.advance()
                if self.tok.kind == _RP:  # trailing comma
                    break
                continue
            if self.tok.kind == _RP:
                break
            if self.tok.kind == _END:
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
        if kind in (_STRING, _NUMBER, _DATE):
            self.advance()
            return tok.value
        if kind == _PARAM:
            self.advance()
            return self.bind(tok, as_list=False)
        if kind == _IDENT:
            word = tok.value.lower()
            if word in ("true", "false"):
                self.advance()
                return word == "true"
            if word == "null":
                self.advance()
                return None
            raise self.fail(
                tok,
                f"unquoted value {_short(tok.text)!r}",
                f"quote text, e.g. '{_short(tok.text)}', or bind a variable with :{_short(tok.text)}",
            )
        if kind == _END:
            raise self.fail(tok, "missing value at end of query", "add a value, e.g. 5 or 'text'")
        raise self.fail(
            tok, f"expected a value, found {self.describe(tok)}", "use a number, 'text', true/false, null or :name"
        )

    def bind(self, tok: _Token, *, as_list: bool) -> Any:
        name = tok.value
        if self.params is None or name not in self.params:
            raise self.fail(
                tok, f"unknown parameter :{name}", f"define {name} in the notebook (or pass params={{'{name}': …}})"
            )
        raw = self.params[name]
        if as_list:
            if isinstance(raw, (str, bytes, Mapping)) or not _is_listlike(raw):
                raise self.fail(
                    tok,
                    f"parameter :{name} must be a list for in / not in, got {type(raw).__name__}",
                    "bind a list or tuple",
                )
            out = []
            for item in _list_items(raw):
                try:
                    v = _json_value(item)
                except TypeError as exc:
                    raise self.fail(tok, f"cannot bind :{name}: {exc}", _BIND_HINT) from None
                if v is None:
                    raise self.fail(tok, f"parameter :{name} contains None", "use exists / not exists for null")
                out.append(v)
            return out
        if _is_listlike(raw) and not isinstance(raw, (str, bytes, Mapping)):
            raise self.fail(tok, f"parameter :{name} is a list", "use in :name / not in :name for lists")
        try:
            return _json_value(raw)
        except TypeError as exc:
            raise self.fail(tok, f"cannot bind :{name}: {exc}", _BIND_HINT) from None


# Words that can never start a condition (no Autotask field is called this).
_RESERVED = frozenset({"and", "or", "not"})

_BIND_HINT = "bind str, int, float, bool, None, a date/datetime, or a list of them for in"


def _flatten(op: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.get("op") == op and "field" not in item:
            out.extend(item["items"])
        else:
            out.append(item)
    return out


def _is_listlike(value: Any) -> bool:
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


# ---------------------------------------------------------------------------------------------- public


def parse_where(text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Parse the query language (or a raw JSON filter) into an Autotask JSON filter list.

    Raises QuerySyntaxError with the column of the problem. An empty or blank text gives ``[]``
    (the caller decides what "no filter" means, usually all rows).
    """
    if not isinstance(text, str):
        raise QuerySyntaxError(f"the query must be text, got {type(text).__name__}", hint="pass a string")
    stripped = text.lstrip(" \t\r\n\ufeff")
    if not stripped or _only_comments(stripped):
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


def _only_comments(text: str) -> bool:
    return next(_tokens_or_end(text)).kind == _END


def _tokens_or_end(text: str) -> Iterator[_Token]:
    try:
        yield from _tokens(text)
    except QuerySyntaxError:
        yield _Token(_IDENT, "", 0, 0, "")


def _parse_json(text: str, offset: int) -> ParsedFilter:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(
            text, exc.pos, f"invalid JSON filter: {exc.msg}", "fix the JSON, or write the query language instead"
        ) from None
    except RecursionError:
        raise _error(text, offset, "JSON filter nested too deeply", "simplify the filter") from None
    if isinstance(data, Mapping) and "filter" in data and "op" not in data:
        data = data["filter"]  # a whole query body pasted in
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise _error(
            text,
            offset,
            "a JSON filter must be a list of conditions",
            'write [{"op": "eq", "field": "id", "value": 1}]',
        )
    return ParsedFilter(_normalize(data, None, entity=None, text=text, offset=offset), text)


def render_where(filter: Sequence[Mapping[str, Any]]) -> str:
    """Write a filter list back in the query language; ``parse_where(render_where(f)) == f``."""
    if isinstance(filter, Mapping):
        filter = [filter]
    return " and ".join(_render(node, 0) for node in filter)


def _render(node: Mapping[str, Any], depth: int) -> str:
    if depth > MAX_DEPTH * 4:
        raise QuerySyntaxError("filter nested too deeply to render", hint="simplify the filter")
    if not isinstance(node, Mapping):
        raise QuerySyntaxError(
            f"filter items must be objects, got {type(node).__name__}", hint='write {"op": …, "field": …}'
        )
    op = _OP_CANON.get(str(node.get("op", "")).lower())
    if op in _GROUPS:
        items = node.get("items") or []
        if not items:
            raise QuerySyntaxError(f"empty {op} group cannot be rendered", hint="remove the group")
        parts = [_render(item, depth + 1) for item in items]
        if len(parts) == 1:
            return parts[0]
        # 'and' binds tighter, so only an or-in-and strictly needs parentheses; and-in-or gets them for
        # readability, and same-op nesting keeps them so the written structure is what is sent.
        return "(" + f" {op} ".join(parts) + ")"
    if op is None:
        raise QuerySyntaxError(f"unknown operator {node.get('op')!r}", hint=_OPERATOR_HELP)
    name = node.get("field")
    if not isinstance(name, str) or not name:
        raise QuerySyntaxError("a condition has no field name", hint='add "field": "name"')
    if node.get("udf"):
        field = "udf." + _quote(name, '"')
    elif _PLAIN_IDENT.match(name) and name.lower() not in _RESERVED:
        field = name
    else:
        raise QuerySyntaxError(
            f"field name {_short(name)!r} cannot be written in the query language", hint="use a raw JSON filter"
        )
    value = node.get("value")
    if op == "exist":
        return f"{field} exists"
    if op == "notExist":
        return f"{field} not exists"
    if op in _LIST_OPS:
        if not _is_listlike(value) or not value:
            raise QuerySyntaxError(f"{op} needs a non-empty list", hint="give a list of values")
        word = "in" if op == "in" else "not in"
        return f"{field} {word} ({', '.join(_render_value(v) for v in value)})"
    return f"{field} {_RENDER_OPS[op]} {_render_value(value)}"


def _render_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuerySyntaxError(f"{value!r} cannot be sent to Autotask", hint="use a finite number")
        return repr(float(value))
    if isinstance(value, str):
        return _quote(value, "'")
    raise QuerySyntaxError(
        f"value of type {type(value).__name__} cannot be written in the query language", hint=_BIND_HINT
    )


def _quote(s: str, quote: str) -> str:
    out = [quote]
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def validate_filter(
    filter: Sequence[Mapping[str, Any]], fields: EntityFields | None, *, entity: str | None = None
) -> list[dict[str, Any]]:
    """Check a filter list before it is sent and return a normalized copy.

    Refuses unknown operators (the server silently ignores them), a second UDF condition, empty
    ``in`` lists, values on ``exist``/``notExist`` and — with ``fields`` — unknown fields, with a
    "did you mean …?". Field names are respelled as the metadata spells them; ``eq null`` becomes
    ``notExist`` and ``noteq null`` becomes ``exist``.
    """
    if isinstance(filter, Mapping):
        filter = [filter]
    if not isinstance(filter, (list, tuple)):
        raise QuerySyntaxError(
            f"a filter must be a list of conditions, got {type(filter).__name__}",
            hint='write [{"op": "eq", "field": "id", "value": 1}]',
        )
    parsed = filter if isinstance(filter, ParsedFilter) else None
    return _normalize(list(filter), fields, entity=entity, parsed=parsed)


class _Checker:
    def __init__(
        self,
        fields: EntityFields | None,
        entity: str | None,
        parsed: ParsedFilter | None,
        text: str | None,
        offset: int,
    ) -> None:
        self.fields = fields
        self.entity = entity or (fields.entity if fields is not None else None)
        self.parsed = parsed
        self.text = parsed.text if parsed is not None else text
        self.offset = offset
        self.udf_count = 0

    def fail(self, node: Any, path: str, what: str, hint: str | None, part: str = "field") -> QuerySyntaxError:
        span = self.parsed.span(node) if self.parsed is not None and isinstance(node, Mapping) else None
        if span is not None and self.text is not None:
            pos = getattr(span, part)
            if pos is None:
                pos = span.field
            return _error(self.text, pos, what, hint)
        err = QuerySyntaxError(f"{what} (filter {path})" if path else what, hint=hint)
        err.text = self.text
        err.position = self.offset if self.text is not None else None
        return err

    def node(self, node: Any, path: str, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise self.fail(
                node, path, f"filter nested too deeply (more than {MAX_DEPTH} levels)", "simplify the filter"
            )
        if not isinstance(node, Mapping):
            raise self.fail(
                node,
                path,
                f"filter items must be objects, got {type(node).__name__}",
                'write {"op": "eq", "field": "id", "value": 1}',
            )
        raw_op = node.get("op")
        op = _OP_CANON.get(raw_op.lower()) if isinstance(raw_op, str) else None
        if op is None:
            shown = _short(str(raw_op)) if raw_op is not None else None
            what = f"unknown operator {shown!r}" if raw_op is not None else 'a filter item has no "op"'
            ops = " ".join(OPERATORS)
            raise self.fail(node, path, what, f"the server ignores unknown operators; use one of {ops}, and, or", "op")
        if op in _GROUPS:
            items = node.get("items")
            if not isinstance(items, list) or not items:
                raise self.fail(
                    node,
                    path,
                    f'an {op} group needs a non-empty "items" list',
                    "add conditions to items or remove the group",
                )
            return {
                "op": op,
                "items": [self.node(item, f"{path}.items[{k}]", depth + 1) for k, item in enumerate(items)],
            }
        out: dict[str, Any] = {"op": op}
        name = node.get("field")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(node, path, f'a {op} condition needs a "field" name', 'add "field": "name"')
        udf = node.get("udf", False)
        if not isinstance(udf, bool):
            raise self.fail(node, path, f'"udf" must be true or false, got {_short(repr(udf))}', 'write "udf": true')
        if udf:
            self.udf_count += 1
            if self.udf_count > 1:
                raise self.fail(
                    node,
                    path,
                    "a second user-defined field condition",
                    "Autotask allows only one udf condition per query",
                )
        out["field"] = self.field_name(node, path, name, udf)
        if "udf" in node:
            out["udf"] = udf
        has_value = "value" in node
        value = node.get("value")
        if op in ("eq", "noteq") and has_value and value is None:
            out["op"] = op = "notExist" if op == "eq" else "exist"
            has_value = False
        if op in _NO_VALUE:
            if has_value and value is not None:
                word = "exists" if op == "exist" else "not exists"
                raise self.fail(
                    node,
                    path,
                    f"{op} takes no value (got {_short(repr(value))})",
                    f"remove the value; {word} only tests for presence",
                    "value",
                )
            return out
        if not has_value:
            raise self.fail(node, path, f'a {op} condition needs a "value"', 'add "value": …')
        if op in _LIST_OPS:
            if not isinstance(value, (list, tuple)) or not value:
                raise self.fail(
                    node, path, f"{op} needs a non-empty list of values", "give at least one value in a list", "value"
                )
            if any(v is None or isinstance(v, (list, tuple, Mapping)) for v in value):
                raise self.fail(
                    node,
                    path,
                    f"{op} values must be numbers, text or booleans",
                    "remove null and nested lists",
                    "value",
                )
            out["value"] = [self.typed(node, path, out, v) for v in value]
            return out
        if value is None:
            raise self.fail(
                node, path, f"{op} needs a value, not null", "use exist / notExist to test for null", "value"
            )
        if isinstance(value, (list, tuple, Mapping)):
            raise self.fail(
                node,
                path,
                f"{op} needs a single value, got a {type(value).__name__}",
                "use in / notIn for lists",
                "value",
            )
        out["value"] = self.typed(node, path, out, value) if op not in _TEXT_OPS else value
        return out

    def typed(self, node: Mapping[str, Any], path: str, out: Mapping[str, Any], value: Any) -> Any:
        """Check a value against the field's type; a picklist label becomes its value (status = 'Complete')."""
        if self.fields is None:
            return value
        info = self.fields.get(out["field"], udf=bool(out.get("udf")))
        if info is None:
            return value
        kind = info.kind
        if isinstance(value, str) and info.picklist and kind in ("integer", "float"):
            matches = [k for k, label in info.picklist.items() if label.casefold() == value.strip().casefold()]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise self.fail(
                    node,
                    path,
                    f"picklist label {_short(value)!r} of {info.name} is ambiguous",
                    f"use one of the values {', '.join(map(str, matches))}",
                    "value",
                )
        if kind in ("integer", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
                return value
            hint = "write a number"
            if info.picklist:
                labels = list(dict.fromkeys(info.picklist.values()))
                hint = f"use a number or one of the labels: {', '.join(labels[:6])}{', …' if len(labels) > 6 else ''}"
            raise self.fail(node, path, f"{info.name} is a number field, got {_short(repr(value))}", hint, "value")
        if kind == "boolean" and not isinstance(value, bool):
            if value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            raise self.fail(
                node,
                path,
                f"{info.name} is a true/false field, got {_short(repr(value))}",
                "write true or false",
                "value",
            )
        if kind in ("date", "datetime") and not (isinstance(value, str) and _ISO_DATE.match(value.strip())):
            raise self.fail(
                node,
                path,
                f"{info.name} is a date field, got {_short(repr(value))}",
                "write an ISO date like '2026-01-31' or '2026-01-31T12:00:00Z'",
                "value",
            )
        return value

    def field_name(self, node: Mapping[str, Any], path: str, name: str, udf: bool) -> str:
        fields = self.fields
        if fields is None:
            return name
        resolved = fields.resolve(name, udf=udf)
        if resolved is not None:
            return resolved
        entity = self.entity or fields.entity
        if udf:
            guess = fields.suggest(name, udf=True)
            hint = f'did you mean udf."{guess}"?' if guess else _known_hint(fields.udf_names, "user-defined fields")
            raise self.fail(node, path, f"unknown user-defined field {_short(name)!r} for {entity}", hint)
        if fields.resolve(name, udf=True) is not None:
            hint = f'did you mean udf."{fields.resolve(name, udf=True)}"? (a user-defined field)'
        else:
            guess = fields.suggest(name)
            hint = f"did you mean {guess!r}?" if guess else _known_hint(fields.names, "fields")
        raise self.fail(node, path, f"unknown field {_short(name)!r} for {entity}", hint)


_TEXT_OPS = frozenset({"contains", "beginsWith", "endsWith"})
_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _known_hint(names: Sequence[str], what: str) -> str:
    if not names:
        return f"this entity has no {what}"
    shown = ", ".join(names[:8])
    return f"known {what}: {shown}{', …' if len(names) > 8 else ''}"


def _normalize(
    items: list[Any],
    fields: EntityFields | None,
    *,
    entity: str | None,
    parsed: ParsedFilter | None = None,
    text: str | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    checker = _Checker(fields, entity, parsed, text, offset)
    return [checker.node(item, f"[{k}]", 1) for k, item in enumerate(items)]
