"""How a stored record goes on the wire: the shapes recorded on live tenants.

Records are stored compactly (the generated fields only, dates as canonical ``.fffZ`` strings, UDF
values typed) so that filters compare them cheaply and 200,000 tickets stay small. The answer is
built here: every field of the entity in declaration order (absent ones null), date-times with 0-3
trimmed fraction digits (``…13:00:00Z``, ``…45.2Z``, ``…14.113Z``), whole decimals as int in records
with an even id and as float in the others, and ``userDefinedFields`` listing every UDF of the
entity with string values (``"20.6400"``), ``[]`` when it declares none, absent where the entity's
records never carry the key (TimeEntries, Resources).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from ._spec import EntitySpec, FieldDef

__all__ = ["renderer", "trim_date", "udf_text", "wire_decimal"]

Record = dict[str, Any]


def trim_date(s: str | None) -> str | None:
    """``2020-01-29T13:00:00.000Z`` -> ``2020-01-29T13:00:00Z``; ``….200Z`` -> ``….2Z``."""
    if s is None or len(s) != 24 or s[19] != ".":
        return s
    frac = s[20:23].rstrip("0")
    return s[:19] + ("." + frac if frac else "") + "Z"


def wire_decimal(v: Any, rid: Any) -> Any:
    """A decimal as sent: whole values are ints in records with an even id (tenants send both forms)."""
    if type(v) is float and v.is_integer() and isinstance(rid, int) and rid % 2 == 0:
        return int(v)
    return v


def udf_text(fd: FieldDef, v: Any) -> str | None:
    """A UDF value as records carry it: always a string."""
    if v is None:
        return None
    if fd.data_type == "decimal":
        return f"{float(v):.4f}"
    if fd.data_type == "datetime":
        return trim_date(str(v))
    if isinstance(v, bool):
        return "Yes" if v else "No"
    return str(v)


def _udfs(spec: EntitySpec, names: frozenset[str] | None) -> Callable[[Record], list[dict[str, Any]]]:
    udfs = [u for u in spec.udfs if names is None or u.name.lower() in names]

    def build(r: Record) -> list[dict[str, Any]]:
        have = {u["name"]: u["value"] for u in r.get("userDefinedFields") or ()}
        return [{"name": u.name, "value": udf_text(u, have.get(u.name))} for u in udfs]

    return build


@cache
def renderer(spec: EntitySpec, include: frozenset[str] | None = None) -> Callable[[Record], Record]:
    """A function turning a stored record into its answer (``include``: lower-case IncludeFields)."""
    fields = [f for f in spec.fields if include is None or f.name.lower() in include]
    parts = []
    for fd in fields:
        get = f"r.get({fd.name!r})"
        if fd.data_type == "datetime":
            parts.append(f"{fd.name!r}: _t({get})")
        elif fd.data_type == "decimal":
            parts.append(f"{fd.name!r}: _d({get}, r.get('id'))")
        else:
            parts.append(f"{fd.name!r}: {get}")
    ns: dict[str, Any] = {"_t": trim_date, "_d": wire_decimal}
    if spec.udf_key:
        if include is None or "userdefinedfields" in include:
            ns["_u"] = _udfs(spec, None)
        else:
            ns["_u"] = _udfs(spec, include)
        parts.append("'userDefinedFields': _u(r)")
    # One dict display per entity, compiled once: building 500 records of 70 fields stays cheap.
    exec(f"def f(r):\n    return {{{', '.join(parts)}}}\n", ns)
    fn: Callable[[Record], Record] = ns["f"]
    return fn
