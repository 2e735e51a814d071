"""Words, lexemes and error positions of the query language.

``lex`` turns text into ``Lexeme`` values one at a time (a single left-to-right scan, so an error early
in a 1 MB cell is reported without reading the rest). ``syntax_error`` builds the ``QuerySyntaxError``
that every stage raises: the message names the line and column, and ``error_pointer`` draws a caret
under it. The operator vocabulary shared by the parser, renderer and validator lives here too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from .._exceptions import QuerySyntaxError

#: Condition operators the server understands (groups are ``and`` / ``or``).
OPERATORS = (
    "eq", "noteq", "gt", "gte", "lt", "lte",
    "beginsWith", "endsWith", "contains", "exist", "notExist", "in", "notIn",
)  # fmt: skip
GROUPS = ("and", "or")
OP_CANON = {op.lower(): op for op in OPERATORS + GROUPS}
NO_VALUE = frozenset({"exist", "notExist"})
LIST_OPS = frozenset({"in", "notIn"})

#: Deepest parenthesis / group nesting accepted.
MAX_DEPTH = 32

OPERATOR_HELP = "use one of = != > >= < <= contains beginswith endswith in, not in, exists, not exists"

# Words that can never start a condition (no Autotask field is called this).
RESERVED = frozenset({"and", "or", "not"})
PLAIN_IDENT = re.compile(r"[^\W\d]\w*\Z")

_SYMBOL_OPS = {"=": "eq", "!=": "noteq", "<>": "noteq", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
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

# Lexeme kinds
IDENT, STRING, NUMBER, DATE, PARAM, SYM, LP, RP, COMMA, DOT, END = (
    "identifier", "string", "number", "date", "parameter", "operator", "(", ")", ",", ".", "end",
)  # fmt: skip
_PUNCTUATION = {"(": LP, ")": RP, ",": COMMA}

_WS = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_IDENT_RE = re.compile(r"[^\W\d]\w*")
_PARAM_RE = re.compile(r":([^\W\d]\w*)")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_SYM_RE = re.compile(r"[=!<>~&|^]+")
_STRING_BODY = {"'": re.compile(r"[^'\\\r\n]*"), '"': re.compile(r'[^"\\\r\n]*')}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "0": "\0", "/": "/", "b": "\b", "f": "\f"}
_SMART_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb"


class Lexeme(NamedTuple):
    """One word, value or symbol of a query: its kind, parsed value, span and source text."""

    kind: str
    value: Any
    pos: int
    end: int
    text: str


# ---------------------------------------------------------------------------------------------- errors


def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of offset ``pos`` in ``text``."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def _where(text: str, pos: int) -> str:
    line, col = line_col(text, pos)
    if "\n" in text.rstrip("\r\n"):
        return f"at line {line}, column {col}"
    return f"at column {col}"


def syntax_error(text: str, pos: int, what: str, hint: str | None) -> QuerySyntaxError:
    """A QuerySyntaxError for ``what`` at offset ``pos`` of ``text``, carrying both for ``error_pointer``."""
    # An error at the end of input points just after the last token, not at the empty line a cell's
    # trailing newline leaves ("at line 2, column 1" under nothing).
    end = text.find("\n", len(text.rstrip()))
    pos = min(pos, len(text) if end == -1 else end)
    err = QuerySyntaxError(f"{what} {_where(text, pos)}", hint=hint)
    err.text = text
    err.position = max(0, min(pos, len(text)))
    return err


def short(s: str, limit: int = 40) -> str:
    """``s`` on one line, clipped to ``limit`` characters, for quoting in a message."""
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


def op_hint(hint: str | None) -> str:
    """``hint`` followed by the list of operators (or just the list)."""
    return f"{hint} (operators: {OPERATOR_HELP[len('use one of ') :]})" if hint else OPERATOR_HELP


# ---------------------------------------------------------------------------------------------- lexer


def lex(text: str, start: int = 0) -> Iterator[Lexeme]:
    """Lexemes of ``text`` from offset ``start`` one by one, ending with an END lexeme; raises
    QuerySyntaxError at a bad character."""
    n = len(text)
    i = start
    while True:
        m = _WS.match(text, i)
        if m:
            i = m.end()
        if i >= n:
            break
        if text[i] == "#" or text.startswith("--", i):
            # Comment to end of line.
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        lexeme = _lexeme_at(text, i)
        yield lexeme
        i = lexeme.end
    yield Lexeme(END, None, n, n, "")


def only_comments(text: str) -> bool:
    """True when ``text`` holds nothing but blanks and comments (a lexing error counts as content)."""
    try:
        return next(lex(text)).kind == END
    except QuerySyntaxError:
        return False


def _lexeme_at(text: str, i: int) -> Lexeme:
    ch = text[i]
    kind = _PUNCTUATION.get(ch)
    if kind is not None:
        return Lexeme(kind, ch, i, i + 1, ch)
    if ch == ".":
        m = _NUMBER_RE.match(text, i)
        if m and m.end() > i + 1:
            return _number(text, m)
        return Lexeme(DOT, ch, i, i + 1, ch)
    if ch in "'\"":
        return _string(text, i)
    if ch == ":":
        m = _PARAM_RE.match(text, i)
        if not m:
            raise syntax_error(text, i, "':' must start a parameter name", "write :name to bind a Python variable")
        return Lexeme(PARAM, m.group(1), i, m.end(), m.group(0))
    if ch.isdigit() or (ch == "-" and i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] == ".")):
        return _date_or_number(text, i)
    if ch in "=!<>~&|^":
        return _symbol(text, i)
    m = _IDENT_RE.match(text, i)
    if m:
        return Lexeme(IDENT, m.group(0), i, m.end(), m.group(0))
    if ch in _SMART_QUOTES:
        raise syntax_error(text, i, f"typographic quote {ch!r}", "use plain ' or \" quotes around strings")
    raise syntax_error(text, i, f"unexpected character {short(ch)!r} (U+{ord(ch):04X})", _fix_char_hint(ch))


def _date_or_number(text: str, i: int) -> Lexeme:
    m = _DATE_RE.match(text, i)
    if m and not _ident_char(text, m.end()):
        return Lexeme(DATE, m.group(0), i, m.end(), m.group(0))
    m = _NUMBER_RE.match(text, i)
    if not m:
        raise syntax_error(text, i, f"unexpected character {text[i]!r}", "write a number like -1.5")
    return _number(text, m)


def _symbol(text: str, i: int) -> Lexeme:
    m = _SYM_RE.match(text, i)
    assert m is not None
    sym = m.group(0)
    if sym not in _SYMBOL_OPS:
        raise syntax_error(text, i, f"unknown operator {sym!r}", op_hint(_SYMBOL_HINTS.get(sym)))
    return Lexeme(SYM, _SYMBOL_OPS[sym], i, m.end(), sym)


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


def _number(text: str, m: re.Match[str]) -> Lexeme:
    raw = m.group(0)
    end = m.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        while end < len(text) and (text[end].isalnum() or text[end] in "_."):
            end += 1
        raise syntax_error(
            text, m.start(), f"invalid number {short(text[m.start() : end])!r}", "quote text values, e.g. 'A1'"
        )
    value: int | float
    if "." in raw or "e" in raw or "E" in raw:
        value = float(raw)
        if not math.isfinite(value):
            raise syntax_error(text, m.start(), f"number {short(raw)!r} is out of range", "use a smaller number")
    else:
        value = int(raw)
    return Lexeme(NUMBER, value, m.start(), end, raw)


def _string(text: str, start: int) -> Lexeme:
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
        if i >= n or text[i] in "\r\n" or (text[i] != quote and i + 1 >= n):
            raise syntax_error(text, start, "unterminated string", f"close it with {quote} on the same line")
        if text[i] == quote:
            i += 1
            break
        i = _escape(text, i, parts)
    return Lexeme(STRING, "".join(parts), start, i, text[start:i])


def _escape(text: str, i: int, parts: list[str]) -> int:
    """Decode the backslash escape at ``text[i]`` into ``parts``; returns the offset after it."""
    esc = text[i + 1]
    if esc in _ESCAPES:
        parts.append(_ESCAPES[esc])
        return i + 2
    if esc == "u":
        hexdigits = text[i + 2 : i + 6]
        if len(hexdigits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in hexdigits):
            raise syntax_error(text, i, "invalid \\u escape", "write \\u followed by 4 hex digits, e.g. \\u00e9")
        parts.append(chr(int(hexdigits, 16)))
        return i + 6
    raise syntax_error(text, i, f"unknown escape '\\{short(esc)}'", "write \\\\ for a backslash")
