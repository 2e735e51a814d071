"""Autotask query semantics: parsing a query body and compiling its filter into a predicate.

Rules the real server follows and the sandbox copies (see shared/autotask-api-facts.md):
- the top-level filter list is an implicit ``and``; groups are ``{"op":"and"|"or","items":[...]}``;
- string comparisons are case-insensitive; dates compare as instants (UTC);
- an unknown operator is silently ignored (the node is dropped; an emptied group is dropped too);
- a comparison with a null value matches nothing; a null field matches nothing except ``notExist``
  (SQL semantics, so ``noteq``/``notIn`` do not return rows whose field is null);
- at most one UDF condition per query; a query must have a filter; ``MaxRecords`` is 1-500.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..entities import MAX_PAGE_SIZE
from ._schema import EntitySpec, FieldDef
from ._shape import trim_date, wire_decimal

__all__ = ["FilterError", "Query", "coerce", "compile_filter", "match_ids", "normalize_date", "parse_query"]

Record = dict[str, Any]
Pred = Callable[[Record], bool]

OPERATORS = frozenset(
    {"eq", "noteq", "gt", "gte", "lt", "lte", "beginswith", "endswith", "contains", "exist", "notexist", "in", "notin"}
)
_NEVER: Pred = lambda r: False  # noqa: E731


class FilterError(Exception):
    """A query the server rejects (HTTP 500 with ``{"errors": [...]}``)."""


@dataclass
class Query:
    """A parsed query body."""

    filter: list[Any]
    include_fields: list[str] | None
    max_records: int
    raw: dict[str, Any]


def _ci_get(d: dict[str, Any], key: str) -> Any:
    # The real API binds JSON keys case-insensitively ("Filter", "filter", "maxRecords"...).
    for k, v in d.items():
        if k.lower() == key:
            return v
    return None


def parse_query(body: Any) -> Query:
    """Validate a query body; raises FilterError with the server's wording."""
    if not isinstance(body, dict):
        raise FilterError("The query body must be a JSON object with a filter.")
    flt = _ci_get(body, "filter")
    if not flt:
        raise FilterError('A query must have a filter. To return every row use {"op":"gte","field":"id","value":0}.')
    if isinstance(flt, dict):
        flt = [flt]
    if not isinstance(flt, list):
        raise FilterError("filter must be a list of conditions.")
    mr = _ci_get(body, "maxrecords")
    if mr is None:
        max_records = MAX_PAGE_SIZE
    else:
        if isinstance(mr, bool) or not isinstance(mr, (int, str)) or not str(mr).strip().lstrip("-").isdigit():
            raise FilterError(f"MaxRecords must be an integer between 1 and {MAX_PAGE_SIZE}, got {mr!r}.")
        max_records = int(mr)
        if not 1 <= max_records <= MAX_PAGE_SIZE:
            raise FilterError(f"MaxRecords must be between 1 and {MAX_PAGE_SIZE}, got {max_records}.")
    inc = _ci_get(body, "includefields")
    if inc is not None and not isinstance(inc, list):
        raise FilterError("IncludeFields must be a list of field names.")
    return Query(flt, [str(x) for x in inc] if inc else None, max_records, body)


def normalize_date(value: Any) -> str:
    """Any ISO 8601 date/time -> canonical UTC ``YYYY-MM-DDTHH:MM:SS.fffZ`` (naive means UTC)."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise FilterError(f"Unable to convert '{value}' to a date/time.") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def coerce(fd: FieldDef, value: Any) -> Any:
    """Convert a filter or write value to the field's type (strings lowered separately)."""
    if value is None:
        return None
    t = fd.data_type
    try:
        if t in ("integer", "long", "short"):
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, float):
                return int(value) if value.is_integer() else value
            if isinstance(value, str):
                f = float(value)
                return int(f) if f.is_integer() and "." not in value else f
            return int(value)
        if t in ("double", "decimal"):
            return float(value)
        if t == "boolean":
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "1"):
                    return True
                if low in ("false", "0"):
                    return False
                raise ValueError(value)
            return bool(value)
        if t == "datetime":
            return normalize_date(value)
        return value if isinstance(value, str) else str(value)
    except (TypeError, ValueError):
        raise FilterError(f"Unable to convert '{value}' to {t} for field {fd.name}.") from None


def _getter(fd: FieldDef, udf: bool) -> Callable[[Record], Any]:
    name = fd.name
    if not udf:
        return lambda r: r.get(name)

    def get_udf(r: Record) -> Any:
        for u in r.get("userDefinedFields") or ():
            if u.get("name") == name:
                return u.get("value")
        return None

    return get_udf


def _as_text(fd: FieldDef, get: Callable[[Record], Any]) -> Callable[[Record], Any]:
    """Text operators see a value as it is sent (trimmed date fractions, whole decimals as sent)."""
    if fd.data_type == "datetime":
        return lambda r: trim_date(get(r))
    if fd.data_type == "decimal":
        return lambda r: wire_decimal(get(r), r.get("id"))
    return get


def _condition_field(spec: EntitySpec, node: dict[str, Any], udf_count: list[int]) -> tuple[FieldDef, bool]:
    """The field a condition tests and whether it is a UDF (at most one UDF condition per query)."""
    field = node.get("field")
    if not isinstance(field, str) or not field:
        raise FilterError(f"A filter condition with op '{node.get('op')}' needs a field.")
    udf = bool(node.get("udf")) and str(node.get("udf")).lower() != "false"
    fd = (spec.udf_by_lower if udf else spec.by_lower).get(field.lower())
    if fd is None:
        kind = "user-defined field" if udf else "field"
        raise FilterError(f"Unable to find {kind} '{field}' in the {spec.singular} entity.")
    if udf:
        udf_count[0] += 1
        if udf_count[0] > 1:
            raise FilterError("Only one user-defined field condition is allowed per query.")
    return fd, udf


def _leaf(spec: EntitySpec, node: dict[str, Any], op: str, udf_count: list[int]) -> Pred | None:
    # One specialised closure per operator and field type, so testing a record is a single call.
    fd, udf = _condition_field(spec, node, udf_count)
    get = _getter(fd, udf)
    is_str = fd.data_type == "string"
    if op == "exist":
        return lambda r: (x := get(r)) is not None and x != ""
    if op == "notexist":
        return lambda r: (x := get(r)) is None or x == ""
    raw = node.get("value")
    if raw is None:
        return _NEVER  # "eq null" and friends match nothing
    if op in ("beginswith", "endswith", "contains"):
        v: Any = str(raw).lower()
        get = _as_text(fd, get)
        if op == "beginswith":
            return lambda r: (x := get(r)) is not None and str(x).lower().startswith(v)
        if op == "endswith":
            return lambda r: (x := get(r)) is not None and str(x).lower().endswith(v)
        return lambda r: (x := get(r)) is not None and v in str(x).lower()
    if op in ("in", "notin"):
        values = raw if isinstance(raw, list) else [raw]
        coerced = [coerce(fd, v) for v in values if v is not None]
        vals = frozenset(v.lower() for v in coerced) if is_str else frozenset(coerced)
        if op == "in":
            if is_str:
                return lambda r: (x := get(r)) is not None and x.lower() in vals
            return lambda r: (x := get(r)) is not None and x in vals
        if is_str:
            return lambda r: (x := get(r)) is not None and x.lower() not in vals
        return lambda r: (x := get(r)) is not None and x not in vals
    v = coerce(fd, raw)
    if is_str:
        v = v.lower()
        if op == "eq":
            return lambda r: (x := get(r)) is not None and x.lower() == v
        if op == "noteq":
            return lambda r: (x := get(r)) is not None and x.lower() != v
        if op == "gt":
            return lambda r: (x := get(r)) is not None and x.lower() > v
        if op == "gte":
            return lambda r: (x := get(r)) is not None and x.lower() >= v
        if op == "lt":
            return lambda r: (x := get(r)) is not None and x.lower() < v
        return lambda r: (x := get(r)) is not None and x.lower() <= v
    if op == "eq":
        return lambda r: (x := get(r)) is not None and x == v
    if op == "noteq":
        return lambda r: (x := get(r)) is not None and x != v
    if fd.data_type == "boolean":
        v = int(v)
    if op == "gt":
        return lambda r: (x := get(r)) is not None and x > v
    if op == "gte":
        return lambda r: (x := get(r)) is not None and x >= v
    if op == "lt":
        return lambda r: (x := get(r)) is not None and x < v
    return lambda r: (x := get(r)) is not None and x <= v


def _node(spec: EntitySpec, node: Any, udf_count: list[int]) -> Pred | None:
    """Compile one node; None means "no constraint" (ignored operator or empty group)."""
    if not isinstance(node, dict):
        raise FilterError(f"A filter condition must be an object, got {node!r}.")
    op = str(node.get("op", "")).lower()
    if op in ("and", "or"):
        items = node.get("items") or []
        if not isinstance(items, list):
            raise FilterError(f"'items' of an '{op}' group must be a list.")
        return _group(spec, op, items, udf_count)
    if op not in OPERATORS:
        return None  # the real server silently ignores unknown operators
    return _leaf(spec, node, op, udf_count)


def _group(spec: EntitySpec, op: str, items: Iterable[Any], udf_count: list[int]) -> Pred | None:
    preds = [p for p in (_node(spec, n, udf_count) for n in items) if p is not None]
    if not preds:
        return None
    if len(preds) == 1:
        return preds[0]
    if op == "and":
        return lambda r: all(p(r) for p in preds)
    return lambda r: any(p(r) for p in preds)


@dataclass
class Compiled:
    """A compiled filter: an id range / id set narrowing the scan, then an optional predicate."""

    pred: Pred | None
    lo: int | None
    hi: int | None
    ids: frozenset[int] | None


def compile_filter(spec: EntitySpec, flt: list[Any]) -> Compiled:
    """Compile a filter list; top-level conditions on ``id`` become a bisectable range."""
    lo: int | None = None
    hi: int | None = None
    id_set: frozenset[int] | None = None
    rest: list[Any] = []
    for node in flt:
        if (
            isinstance(node, dict)
            and str(node.get("field", "")).lower() == "id"
            and not node.get("udf")
            and str(node.get("op", "")).lower() in ("eq", "gt", "gte", "lt", "lte", "in")
        ):
            op = str(node["op"]).lower()
            val = node.get("value")
            if val is None:
                return Compiled(_NEVER, None, None, None)
            if op == "in":
                vals = val if isinstance(val, list) else [val]
                got = frozenset(coerce(spec.by_lower["id"], v) for v in vals if v is not None)
                id_set = got if id_set is None else id_set & got
                continue
            v = coerce(spec.by_lower["id"], val)
            if op in ("gt", "gte"):
                b = math.floor(v) + 1 if op == "gt" else math.ceil(v)
                lo = b if lo is None else max(lo, b)
            elif op in ("lt", "lte"):
                b = math.ceil(v) - 1 if op == "lt" else math.floor(v)
                hi = b if hi is None else min(hi, b)
            else:
                if not float(v).is_integer():
                    return Compiled(_NEVER, None, None, None)
                lo = int(v) if lo is None else max(lo, int(v))
                hi = int(v) if hi is None else min(hi, int(v))
            continue
        rest.append(node)
    pred = _group(spec, "and", rest, [0])
    return Compiled(pred, lo, hi, id_set)


def match_ids(table: Any, compiled: Compiled) -> list[int]:
    """Ids (ascending) of the records in ``table`` (a Table) that match."""
    if compiled.pred is _NEVER:
        return []
    if compiled.ids is not None:
        cand = sorted(
            i
            for i in compiled.ids
            if i in table and (compiled.lo is None or i >= compiled.lo) and (compiled.hi is None or i <= compiled.hi)
        )
    else:
        cand = table.id_slice(compiled.lo, compiled.hi)
    pred = compiled.pred
    if pred is None:
        return cand
    get = table.__getitem__
    return [i for i in cand if pred(get(i))]
