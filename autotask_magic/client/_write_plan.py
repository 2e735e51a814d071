"""Everything checked before the first write: where writes go, the frame's columns and cells, the ids.

A frame is turned into a :class:`WritePlan` (one :class:`PlannedRow` per frame row, its cells encoded
as the API expects) or refused whole with one :class:`~.._exceptions.ConfigurationError` line naming
the rows and columns at fault. Updates and deletes read the records' current values (``in`` queries of
at most 500 ids, :func:`read_current`) to find ids that do not exist, the parent id of a child written
through its parent's path, and the cells that would change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._exceptions import ConfigurationError
from ..entities import api_surface
from ..entities._metadata import EntityFields, FieldInfo
from ..entities._parents import parent_field
from ._write_values import BadValue, encode, is_missing, same, whole_number

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ._client import AutotaskClient

__all__ = ["IN_BATCH", "Kind", "PlannedRow", "Problems", "WritePlan", "WriteTarget", "plan_writes", "write_target"]

Kind = Literal["update", "create", "delete"]

#: Ids per ``in`` query of a diff read (one page each: the API's page limit).
IN_BATCH = 500
_OPERATION = {"update": "update_patch", "create": "create", "delete": "delete"}
_VERB = {"update": "updated", "create": "created", "delete": "deleted"}
_SHOWN = 5  # rows or columns named per problem before "+N more"


@dataclass(frozen=True)
class WriteTarget:
    """Where one entity's writes go: its own collection, or a parent's child path."""

    entity: str
    segment: str | None = None  # the child path's segment (``Notes``) when written through a parent
    parent: str | None = None  # the parent entity (``Tickets``)
    parent_field: str | None = None  # the child's field holding the parent id (``ticketID``)

    def path(self, kind: Kind, parent_id: int | None = None, record_id: int | None = None) -> str:
        """The relative path of one write (``Tickets``, ``Tickets/7/Notes``, ``Companies/3/Contacts/9``)."""
        base = self.entity if self.parent is None else f"{self.parent}/{parent_id}/{self.segment}"
        return f"{base}/{record_id}" if kind == "delete" else base


def write_target(entity: str, kind: Kind) -> WriteTarget:
    """The target of ``kind`` writes to ``entity`` (case-insensitive), or a one-line refusal."""
    surface = api_surface()
    ent = surface.lookup(entity)
    if ent is None:
        raise ConfigurationError(f"{kind} {entity}: no such entity", hint="%autotask fields ENTITY checks a name")
    if ent.allows(_OPERATION[kind]):
        return WriteTarget(ent.name)
    for child in surface.child_paths(ent.name):
        if _OPERATION[kind] in child.operations:
            pf = parent_field(child.parent, child.segment, ent.fields)
            return WriteTarget(ent.name, child.segment, child.parent, pf)
    raise ConfigurationError(f"{kind} {ent.name}: {ent.name} records cannot be {_VERB[kind]} through the API")


@dataclass
class PlannedRow:
    """One frame row: its label, record id (updates, deletes), encoded cells and, once read, the record."""

    key: Any
    id: int | None
    values: dict[str, Any] = field(default_factory=dict)  # standard field -> JSON value
    udfs: dict[str, Any] = field(default_factory=dict)  # UDF name -> JSON value
    parent_id: int | None = None
    current: dict[str, Any] | None = None  # the record as read (updates, deletes)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # column -> (current, new)
    existing_id: int | None = None  # creates with match columns: the record that already exists

    def body(self, kind: Kind, *, force: bool) -> dict[str, Any] | None:
        """The JSON of this row's write (None for a delete); an update sends only what changes unless forced."""
        if kind == "delete":
            return None
        values = self.values
        udfs = self.udfs
        if kind == "update" and not force:
            values = {k: v for k, v in values.items() if k in self.changes}
            udfs = {k: v for k, v in udfs.items() if f"udf.{k}" in self.changes}
        body: dict[str, Any] = ({"id": self.id} if kind == "update" else {}) | values
        if udfs:
            body["userDefinedFields"] = [{"name": k, "value": v} for k, v in udfs.items()]
        return body


@dataclass
class WritePlan:
    """The checked rows of one frame and where they go."""

    kind: Kind
    target: WriteTarget
    fields: EntityFields
    rows: list[PlannedRow]
    columns: dict[str, str]  # field column (``udf.<name>`` for UDFs) -> the frame's column; ``id`` left out
    nulls: str = "leave"
    match: list[str] | None = None

    @property
    def entity(self) -> str:
        return self.target.entity


class Problems:
    """What is wrong with a frame, by kind, said in one line at the end."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._found: dict[str, list[str]] = {}

    def add(self, kind: str, item: str) -> None:
        self._found.setdefault(kind, []).append(item)

    def __bool__(self) -> bool:
        return bool(self._found)

    def check(self) -> None:
        """Raise the one-line refusal when anything was found."""
        if not self._found:
            return
        parts = []
        for kind, items in self._found.items():
            shown = ", ".join(items[:_SHOWN]) + (f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")
            parts.append(f"{kind}: {shown}")
        raise ConfigurationError(
            f"{self.what} refused, nothing was sent — " + "; ".join(parts),
            hint="fix the frame and run it again (--dry-run checks it without writing)",
        )


def plan_writes(
    client: AutotaskClient,
    kind: Kind,
    entity: str,
    frame: Any,
    *,
    nulls: str = "leave",
    match: Sequence[str] | None = None,
    dry_run: bool = False,
) -> WritePlan:
    """Check ``frame`` for ``kind`` writes to ``entity`` and read what the checks need; refuse it whole if bad.

    A dry run flags ids that do not exist (the preview shows them) instead of refusing the frame.
    """
    if nulls not in ("leave", "clear"):
        raise ConfigurationError(f"nulls must be 'leave' or 'clear', got {nulls!r}")
    target = write_target(entity, kind)
    df = _as_frame(frame, kind, target.entity)
    fields = client.fields(target.entity)
    problems = Problems(f"{kind} {target.entity}")
    columns = _check_columns(df, kind, target, fields, problems, match)
    problems.check()
    rows = _rows(df, kind, columns, fields, problems, nulls)
    if kind == "create":
        _check_required(df, rows, target, fields, problems)
    problems.check()
    plan = WritePlan(kind, target, fields, rows, columns, nulls, list(match) if match else None)
    if kind != "create":
        _read_rows(client, plan, problems, flag_missing=not dry_run)
    _check_references(client, plan, problems)
    problems.check()
    return plan


def _as_frame(frame: Any, kind: Kind, entity: str) -> pandas.DataFrame:
    import pandas as pd

    if kind == "delete" and not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame({"id": list(frame.values if isinstance(frame, pd.Series) else frame)})
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(f"{kind} {entity}: expected a DataFrame, got {type(frame).__name__}")
    if frame.columns.has_duplicates:
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise ConfigurationError(f"{kind} {entity}: columns given twice: {', '.join(dup)}")
    return frame


def _check_columns(
    df: Any, kind: Kind, target: WriteTarget, fields: EntityFields, problems: Problems, match: Sequence[str] | None
) -> dict[str, str]:
    """Field column (``udf.<name>`` for UDFs) -> the frame's column, ``id`` apart; problems recorded."""
    names = [str(c) for c in df.columns]
    has_id = any(n.lower() == "id" for n in names)
    if kind != "create" and not has_id:
        problems.add("missing column", "id (every row names the record it changes)")
    if kind == "create" and has_id:
        problems.add("column not allowed in a create", "id (the server assigns it)")
    if kind == "delete":
        extra = [n for n in names if n.lower() not in ("id", (target.parent_field or "").lower())]
        if extra:
            problems.add("columns a delete does not use", ", ".join(extra))
        return {}
    out: dict[str, str] = {}
    for name in names:
        if name.lower() == "id":
            continue
        info = _field(fields, name)
        if info is None:
            bare = name[4:] if name.lower().startswith("udf.") else name
            guess = fields.suggest(bare, udf=name.lower().startswith("udf."))
            problems.add("unknown columns", f"{name}" + (f" (did you mean {guess}?)" if guess else ""))
        elif info.is_read_only and info.name != target.parent_field:
            problems.add("read-only columns", name)
        else:
            out[f"udf.{info.name}" if info.is_udf else info.name] = name
    for col in match or ():
        info = _field(fields, col)
        if info is None:
            problems.add("unknown --match columns", col)
        elif info.is_udf:  # the existing records are found with a query on the first match column
            problems.add("--match columns that are UDFs (match on standard fields)", col)
        elif col not in names:
            problems.add("--match columns not in the frame", col)
    return out


def label_change(fields: EntityFields, column: str, old: Any, new: Any) -> str:
    """``"New → Complete"`` for a picklist field's change, when both values have labels; else ``""``."""
    info = _field(fields, column)
    if info is None or not info.picklist:
        return ""
    before, after = ("(empty)" if v is None else info.label(v) for v in (old, new))
    return f"{before} → {after}" if before is not None and after is not None else ""


def _field(fields: EntityFields, column: str) -> FieldInfo | None:
    if column.lower().startswith("udf."):
        return fields.get(column[4:].strip().strip("\"'"), udf=True)
    return fields.get(column, udf=False)


def _rows(
    df: Any, kind: Kind, columns: dict[str, str], fields: EntityFields, problems: Problems, nulls: str
) -> list[PlannedRow]:
    """Encode every cell (a bad one is recorded with its row and column)."""
    id_col = next((c for c in df.columns if str(c).lower() == "id"), None)
    infos = {col: _field(fields, col) for col in columns}
    rows: list[PlannedRow] = []
    seen: dict[int, Any] = {}
    for key, record in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        cells = dict(zip((str(c) for c in df.columns), record, strict=True))
        row = PlannedRow(key, _row_id(cells, id_col, key, problems) if id_col is not None else None)
        if row.id is not None:
            if row.id in seen:
                problems.add("ids given twice", f"{row.id} (rows {seen[row.id]} and {key})")
            seen[row.id] = key
        for col in columns:
            info = infos[col]
            assert info is not None
            value = cells[columns[col]]
            if is_missing(value):
                if kind == "update" and nulls == "clear":
                    _put(row, info, None)
                continue
            try:
                _put(row, info, encode(value, info))
            except BadValue as exc:
                problems.add("bad values", f"row {key} column {col}: {exc}")
        rows.append(row)
    return rows


def _row_id(cells: dict[str, Any], id_col: Any, key: Any, problems: Problems) -> int | None:
    value = cells[str(id_col)]
    if is_missing(value):
        problems.add("rows without an id", str(key))
        return None
    try:
        return whole_number(value)
    except BadValue:
        problems.add("ids that are not whole numbers", f"row {key}: {value!r}")
        return None


def _put(row: PlannedRow, info: FieldInfo, value: Any) -> None:
    if info.is_udf:
        row.udfs[info.name] = value
    else:
        row.values[info.name] = value


def _check_required(
    df: Any, rows: list[PlannedRow], target: WriteTarget, fields: EntityFields, problems: Problems
) -> None:
    """Creates: every required, writable field has a value in every row (the parent id in a child's path)."""
    for info in fields.fields:
        if not info.is_required or info.is_read_only or info.name == "id":
            continue
        missing = [str(r.key) for r in rows if r.values.get(info.name) is None]
        if missing:
            problems.add(f"required {info.name} missing in rows", ", ".join(missing))
    if target.parent_field:
        for r in rows:
            r.parent_id = r.values.get(target.parent_field)
            if r.parent_id is None:
                problems.add(f"{target.parent_field} (the parent in the path) missing in rows", str(r.key))


def _read_rows(client: AutotaskClient, plan: WritePlan, problems: Problems, *, flag_missing: bool) -> None:
    """Updates and deletes: read each record, flag ids that do not exist, find parents and the changes."""
    ids = [r.id for r in plan.rows if r.id is not None]
    wanted = [c for c in plan.columns if c != plan.target.parent_field] if plan.kind == "update" else []
    if plan.target.parent_field:
        wanted.append(plan.target.parent_field)
    records = read_current(client, plan.entity, ids, wanted)
    for row in plan.rows:
        if row.id is None:
            continue
        row.current = records.get(row.id)
        if row.current is None:
            if flag_missing:
                problems.add(f"ids that do not exist in {plan.entity}", f"row {row.key}: {row.id}")
            continue
        if plan.target.parent_field:
            row.parent_id = row.current.get(plan.target.parent_field)
        if plan.kind == "update":
            row.changes = diff_row(row, plan.fields)


def read_current(
    client: AutotaskClient, entity: str, ids: Sequence[int], columns: Iterable[str]
) -> dict[int, dict[str, Any]]:
    """The records with ``ids`` (only ``columns``), read with ``in`` queries of at most 500 ids."""
    include = ["id", *dict.fromkeys(columns)]
    unique = list(dict.fromkeys(ids))
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(unique), IN_BATCH):
        chunk = unique[start : start + IN_BATCH]
        flt = [{"op": "in", "field": "id", "value": chunk}]
        for rec in client.records(entity, flt, fields=include):
            out[int(rec["id"])] = rec
    return out


def diff_row(row: PlannedRow, fields: EntityFields) -> dict[str, tuple[Any, Any]]:
    """Column -> (current, new) for the cells of ``row`` that differ from its record."""
    current = row.current or {}
    udf_now = {u.get("name"): u.get("value") for u in current.get("userDefinedFields") or () if isinstance(u, dict)}
    out: dict[str, tuple[Any, Any]] = {}
    for name, new in row.values.items():
        if not same(current.get(name), new, fields.get(name, udf=False)):
            out[name] = (current.get(name), new)
    for name, new in row.udfs.items():
        if not same(udf_now.get(name), new, fields.get(name, udf=True)):
            out[f"udf.{name}"] = (udf_now.get(name), new)
    return out


def _check_references(client: AutotaskClient, plan: WritePlan, problems: Problems) -> None:
    """Reference columns: every id given must exist in the referenced entity (one read per column)."""
    surface = api_surface()
    for info in plan.fields.fields:
        if not info.is_reference or not info.reference_entity or info.name not in plan.columns:
            continue
        wanted = {r.values[info.name] for r in plan.rows if r.values.get(info.name) is not None}
        if plan.kind == "update":
            wanted = {r.values[info.name] for r in plan.rows if info.name in r.changes and r.values[info.name]}
        ref = _reference_entity(surface, info.reference_entity)
        if not wanted or ref is None:
            continue
        found = read_current(client, ref, sorted(wanted), [])
        for r in plan.rows:
            v = r.values.get(info.name)
            if v is not None and v in wanted and v not in found:
                problems.add(f"{info.name} values with no {ref} record", f"row {r.key}: {v}")


def _reference_entity(surface: Any, singular_name: str) -> str | None:
    """``Company`` -> ``Companies`` (the metadata names references in the singular)."""
    from ..entities._parents import singular

    for name in surface:
        if singular(name).lower() == singular_name.lower() or name.lower() == singular_name.lower():
            ent = surface[name]
            return name if ent.allows("query") else None
    return None
