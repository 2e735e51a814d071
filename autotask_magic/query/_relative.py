"""Relative dates: ``createDate >= today - 30d``, ``lastActivityDate > now - 6h``, ``dueDateTime < startofweek + 7d``.

The parser reads an anchor (``today``, ``now``, ``startofweek``, ``startofmonth``, ``startofyear``) and an
optional ``+``/``-`` offset in minutes, hours, days or weeks (``m h d w``) into a :class:`RelativeDate`:
a ``str`` holding the expression as written (so a filter stays plain JSON-like data and renders back to
text). :func:`resolve_relative` turns each one into an ISO date-time **at send time, in the query's time
zone**: ``today`` is midnight in that zone, ``startofweek`` Monday's midnight; days and weeks move the
calendar (midnight stays midnight across a DST change), minutes and hours move the clock. Compared with a
date-only field (``dateWorked``…) the result is that calendar day at midnight UTC, as the field holds it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ..entities import EntityFields

__all__ = [
    "ANCHORS",
    "RelativeDate",
    "clock",
    "has_relative",
    "match_relative",
    "resolve_dates",
    "resolve_relative",
    "resolved_text",
]

ANCHORS = ("today", "now", "startofweek", "startofmonth", "startofyear")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

# The anchor word, then an optional offset: "today - 30d", "now-6h", "startofweek + 1w".
_EXPR = re.compile(
    r"(?P<anchor>today|now|startofweek|startofmonth|startofyear)(?![\w])"
    r"(?:\s*(?P<sign>[+-])\s*(?P<n>\d{1,6})\s*(?P<unit>[mhdw])(?![\w]))?",
    re.IGNORECASE,
)
_OFFSET_START = re.compile(r"\s*[+-]")


def clock() -> _dt.datetime:
    """The current instant (aware); tests replace it to resolve against a fixed clock."""
    return _dt.datetime.now(_dt.UTC)


class RelativeDate(str):
    """A relative date as written (normalised: ``today - 30d``); resolved by :func:`resolve_relative`."""

    __slots__ = ()


def match_relative(text: str, pos: int) -> tuple[RelativeDate, int] | None:
    """The relative date starting at ``text[pos]`` and the offset after it, or None if there is none.

    An anchor followed by ``+``/``-`` that is no valid offset returns None for the whole, so the parser
    reports the problem at the anchor.
    """
    m = _EXPR.match(text, pos)
    if m is None:
        return None
    if m.group("sign") is None and _OFFSET_START.match(text, m.end()):
        return None  # "today - 30" or "today + x": a broken offset
    anchor = m.group("anchor").lower()
    if m.group("sign") is None:
        return RelativeDate(anchor), m.end()
    return RelativeDate(f"{anchor} {m.group('sign')} {int(m.group('n'))}{m.group('unit').lower()}"), m.end()


def evaluate(expr: str, zone: ZoneInfo, now: _dt.datetime) -> _dt.datetime:
    """The aware local date-time of ``expr`` in ``zone`` at the instant ``now``."""
    m = _EXPR.fullmatch(expr.strip())
    if m is None:
        raise ValueError(f"not a relative date: {expr!r}")
    local = now.astimezone(zone)
    anchor = m.group("anchor").lower()
    day = local.date()
    if anchor == "startofweek":
        day -= _dt.timedelta(days=day.weekday())
    elif anchor == "startofmonth":
        day = day.replace(day=1)
    elif anchor == "startofyear":
        day = day.replace(month=1, day=1)
    if m.group("sign") is None:
        n, unit = 0, "d"
    else:
        n = int(m.group("n")) * (-1 if m.group("sign") == "-" else 1)
        unit = m.group("unit").lower()
    if anchor == "now":
        return (local + _dt.timedelta(**{UNITS[unit]: n})).astimezone(zone)
    if unit in ("d", "w"):
        # Calendar arithmetic on the wall clock: midnight stays midnight across a DST change.
        day += _dt.timedelta(**{UNITS[unit]: n})
        return _dt.datetime.combine(day, _dt.time(), tzinfo=zone)
    start = _dt.datetime.combine(day, _dt.time(), tzinfo=zone)
    return (start.astimezone(_dt.UTC) + _dt.timedelta(**{UNITS[unit]: n})).astimezone(zone)


def resolve_relative(
    filter: Sequence[Mapping[str, Any]],
    fields: EntityFields | None,
    tz: str,
    now: _dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """A copy of ``filter`` with every :class:`RelativeDate` value resolved (UTC ``...Z`` text).

    ``now`` (aware) is the instant to resolve at; default: the current time.
    """
    zone = ZoneInfo(tz)
    at = now if now is not None else clock()
    return [_node(node, fields, zone, at) for node in filter]


def resolve_dates(
    filter: Sequence[Mapping[str, Any]], fields: EntityFields | None, tz: str, now: _dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The filter as it is sent: relative dates resolved, then date literals read in ``tz`` (``_dates``)."""
    from ._dates import localize_dates

    return localize_dates(resolve_relative(filter, fields, tz, now), fields, tz)


def _node(node: Mapping[str, Any], fields: EntityFields | None, zone: ZoneInfo, now: _dt.datetime) -> dict[str, Any]:
    out = dict(node)
    if isinstance(node.get("items"), list):
        out["items"] = [_node(item, fields, zone, now) for item in node["items"]]
        return out
    if "value" not in node:
        return out
    info = fields.get(str(node.get("field", "")), udf=bool(node.get("udf"))) if fields is not None else None
    date_only = info is not None and info.kind == "date"
    value = node["value"]
    if isinstance(value, list):
        out["value"] = [_value(v, date_only, zone, now) for v in value]
    else:
        out["value"] = _value(value, date_only, zone, now)
    return out


def _value(value: Any, date_only: bool, zone: ZoneInfo, now: _dt.datetime) -> Any:
    if not isinstance(value, RelativeDate):
        return value
    local = evaluate(value, zone, now)
    if date_only:
        return f"{local.date().isoformat()}T00:00:00Z"
    return local.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def has_relative(flt: Sequence[Mapping[str, Any]]) -> bool:
    """True if a parsed filter holds a relative date (``today - 30d``) anywhere."""
    for node in flt:
        if isinstance(node.get("items"), list) and has_relative(node["items"]):
            return True
        value = node.get("value")
        if any(isinstance(v, RelativeDate) for v in (value if isinstance(value, list) else [value])):
            return True
    return False


def resolved_text(typed: Sequence[Mapping[str, Any]], resolved: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the sender made of typed values, one note each: ``today - 30d = 2026-11-01T05:00:00Z`` for a
    relative date, ``status 'complete' = 5`` for a picklist label (``typed`` and ``resolved``: same shape)."""
    out: list[str] = []
    for a, b in zip(typed, resolved, strict=False):
        if isinstance(a.get("items"), list) and isinstance(b.get("items"), list):
            out += resolved_text(a["items"], b["items"])
            continue
        va, vb = a.get("value"), b.get("value")
        pairs = zip(va, vb, strict=False) if isinstance(va, list) and isinstance(vb, list) else [(va, vb)]
        for x, y in pairs:
            if isinstance(x, RelativeDate) and not isinstance(y, RelativeDate):
                out.append(f"{x} = {y}")
            elif isinstance(x, str) and isinstance(y, (int, float)) and not isinstance(y, bool):
                out.append(f"{b.get('field')} {x!r} = {y}")
    return list(dict.fromkeys(out))
