"""Filter list -> query-language text, the inverse of ``parse_where``: ``parse_where(render_where(f)) == f``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import QuerySyntaxError
from ._lexer import GROUPS, LIST_OPS, MAX_DEPTH, OP_CANON, OPERATOR_HELP, PLAIN_IDENT, RESERVED, short
from ._parser import BIND_HINT, is_listlike
from ._relative import RelativeDate

__all__ = ["render_where"]

_RENDER_OPS = {
    "eq": "=", "noteq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
    "contains": "contains", "beginsWith": "beginswith", "endsWith": "endswith",
}  # fmt: skip


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
    op = OP_CANON.get(str(node.get("op", "")).lower())
    if op in GROUPS:
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
        raise QuerySyntaxError(f"unknown operator {node.get('op')!r}", hint=OPERATOR_HELP)
    field = _render_field(node)
    value = node.get("value")
    if op == "exist":
        return f"{field} exists"
    if op == "notExist":
        return f"{field} not exists"
    if op in LIST_OPS:
        if not is_listlike(value) or not value:
            raise QuerySyntaxError(f"{op} needs a non-empty list", hint="give a list of values")
        word = "in" if op == "in" else "not in"
        return f"{field} {word} ({', '.join(_render_value(v) for v in value)})"
    return f"{field} {_RENDER_OPS[op]} {_render_value(value)}"


def _render_field(node: Mapping[str, Any]) -> str:
    name = node.get("field")
    if not isinstance(name, str) or not name:
        raise QuerySyntaxError("a condition has no field name", hint='add "field": "name"')
    if node.get("udf"):
        return "udf." + _quote(name, '"')
    if PLAIN_IDENT.match(name) and name.lower() not in RESERVED:
        return name
    raise QuerySyntaxError(
        f"field name {short(name)!r} cannot be written in the query language", hint="use a raw JSON filter"
    )


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
    if isinstance(value, RelativeDate):
        return str(value)  # bare: "today - 30d" reads back as the same relative date
    if isinstance(value, str):
        return _quote(value, "'")
    raise QuerySyntaxError(
        f"value of type {type(value).__name__} cannot be written in the query language", hint=BIND_HINT
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
