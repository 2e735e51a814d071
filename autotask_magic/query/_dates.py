"""Date literals in a filter, read the way the analyst means them under ``--tz``.

The API reads a date or date-time without an offset as UTC. With a time zone other than UTC:

* compared with a **date-only** field (``entities.is_date_only``: ``dateWorked``, ``hireDate``…), a
  date literal ``'2026-01-05'`` means that calendar day, sent as midnight UTC ``2026-01-05T00:00:00Z``
  (the field holds midnight UTC), never shifted by the zone;
* compared with a **date-time** field, a literal without an offset is a wall-clock time in the zone:
  ``createDate >= '2026-01-05'`` in ``America/New_York`` is sent as ``2026-01-05T05:00:00Z``.

Literals with ``Z`` or an offset are sent as written. Kept apart from the parser and the validator:
it runs on a validated filter once the entity's metadata is known.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ..entities import EntityFields

__all__ = ["localize_dates"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def localize_dates(filter: Sequence[Mapping[str, Any]], fields: EntityFields | None, tz: str) -> list[dict[str, Any]]:
    """A copy of ``filter`` with its date literals resolved for ``tz`` (see the module docstring)."""
    if fields is None or tz == "UTC":
        return [dict(node) for node in filter]
    zone = ZoneInfo(tz)
    return [_node(node, fields, zone) for node in filter]


def _node(node: Mapping[str, Any], fields: EntityFields, zone: ZoneInfo) -> dict[str, Any]:
    out = dict(node)
    if isinstance(node.get("items"), list):
        out["items"] = [_node(item, fields, zone) for item in node["items"]]
        return out
    info = fields.get(str(node.get("field", "")), udf=bool(node.get("udf")))
    if info is None or info.kind not in ("date", "datetime") or "value" not in node:
        return out
    value = node["value"]
    if isinstance(value, list):
        out["value"] = [_literal(v, info.kind == "date", zone) for v in value]
    else:
        out["value"] = _literal(value, info.kind == "date", zone)
    return out


def _literal(value: Any, date_only: bool, zone: ZoneInfo) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if date_only and _DATE.fullmatch(text):
        return f"{text}T00:00:00Z"
    if date_only or not _NAIVE.fullmatch(text):
        return value  # a time on a date-only field, or an explicit offset: as written
    try:
        local = _dt.datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:  # not a real date ('2026-13-45'): the type check refuses it
        return value
    return local.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"
