"""Value types checked against the field's metadata before sending, beyond what the validator does.

The server answers ``title > 5`` or ``createDate = '2026-13-45'`` with an HTTP 500 (or silently reads
something else); both are caught here with a pointer into the condition:

* a number or true/false compared with a text field (quote it if text was meant);
* a date literal that is no real day or time.

Runs on the validated filter next to the parsed one (same shape), so errors point at the value typed.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import QuerySyntaxError
from ..entities import EntityFields
from ._filter import ParsedFilter
from ._lexer import short as _short
from ._lexer import syntax_error as _error
from ._relative import RelativeDate

__all__ = ["check_value_types"]


def check_value_types(
    parsed: Sequence[Mapping[str, Any]], checked: Sequence[Mapping[str, Any]], fields: EntityFields | None
) -> None:
    """Raise QuerySyntaxError for a value the field cannot hold; ``checked`` is ``validate_filter(parsed)``."""
    if fields is None:
        return
    source = parsed if isinstance(parsed, ParsedFilter) else None
    for original, node in zip(parsed, checked, strict=False):
        _check(original, node, fields, source)


def _check(original: Any, node: Mapping[str, Any], fields: EntityFields, source: ParsedFilter | None) -> None:
    if isinstance(node.get("items"), list):
        items = original.get("items") if isinstance(original, Mapping) else None
        for o, n in zip(items or node["items"], node["items"], strict=False):
            _check(o, n, fields, source)
        return
    info = fields.get(str(node.get("field", "")), udf=bool(node.get("udf")))
    if info is None or "value" not in node:
        return
    values = node["value"] if isinstance(node["value"], list) else [node["value"]]
    for value in values:
        problem = _problem(info.kind, bool(info.picklist), value)
        if problem is not None:
            what, hint = problem
            raise _fail(original, source, f"{info.name} {what}, got {_short(repr(value))}", hint)


def _problem(kind: str, picklist: bool, value: Any) -> tuple[str, str] | None:
    if kind == "string" and not picklist and isinstance(value, (int, float)):  # bool is an int too
        return "is a text field", f"quote the value if text is meant: '{value}'"
    if kind in ("date", "datetime") and isinstance(value, str) and not _real_date(value.strip()):
        if isinstance(value, RelativeDate):
            return None  # resolved at send time (``_relative``)
        return "is a date field and this is no real date", "write a real day like '2026-01-31' (month 01-12)"
    return None


def _real_date(text: str) -> bool:
    try:
        _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        return False
    return True


def _fail(original: Any, source: ParsedFilter | None, what: str, hint: str) -> QuerySyntaxError:
    span = source.span(original) if source is not None and isinstance(original, Mapping) else None
    if span is not None:
        return _error(source.text, span.value if span.value is not None else span.field, what, hint)  # type: ignore[union-attr]
    return QuerySyntaxError(what, hint=hint)
