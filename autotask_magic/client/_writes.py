"""Writes from a DataFrame: preview (the diff), apply (within the limits), and the outcome of every row.

    >>> preview = client.update("Tickets", df, dry_run=True)   # id, field, current, new
    >>> outcome = client.update("Tickets", df)                 # id, status, message (one row per frame row)
    >>> outcome = client.update("Tickets", df, retry=outcome)  # failed rows again; unknown ones re-read first

The outcome frame has the input frame's index. ``status`` is ``ok``, ``failed`` (the server refused;
``message`` has its words), ``unknown`` (no answer came: the write may or may not have been applied; it
is never sent again automatically) or ``not sent`` (stopped by Ctrl-C first). A second run of the same
update frame sends nothing: rows whose cells already hold the values are ``ok`` without a write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError, RateLimitError
from ._write_plan import IN_BATCH, Kind, PlannedRow, WritePlan, label_change, plan_writes, read_current
from ._write_send import Job, Outcome, Progress, send_all
from ._write_values import same

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ._client import AutotaskClient

__all__ = ["Confirm", "run_writes"]

#: Asked with the number of writes about to be sent; False cancels before the first one.
Confirm = Callable[[int], bool]
_METHOD = {"update": "PATCH", "create": "POST", "delete": "DELETE"}
_UNCHANGED = "unchanged; not sent"


def run_writes(
    client: AutotaskClient,
    kind: Kind,
    entity: str,
    frame: Any,
    *,
    dry_run: bool = False,
    nulls: str = "leave",
    force: bool = False,
    match: Sequence[str] | None = None,
    retry: pandas.DataFrame | None = None,
    on_progress: Progress | None = None,
    confirm: Confirm | None = None,
) -> pandas.DataFrame:
    """The preview (``dry_run``) or the outcome frame of ``kind`` writes of ``frame`` to ``entity``.

    Everything checkable is checked before the first write; a bad frame raises one ConfigurationError.
    Ctrl-C stops after the writes in flight: the KeyboardInterrupt carries ``.outcome`` (the frame so far).
    """
    frame, previous, settled = _retry_rows(client, kind, entity, frame, retry, match)
    plan = plan_writes(client, kind, entity, frame, nulls=nulls, match=match, dry_run=dry_run)
    if kind == "create" and match:
        _find_existing(client, plan)
    if dry_run:
        return preview_frame(plan)
    jobs = [job for row in plan.rows if (job := _job(plan, row, force)) is not None]
    _check_budget(client, len(jobs))
    if jobs and confirm is not None and not confirm(len(jobs)):
        raise ConfigurationError(f"{kind} {plan.entity}: cancelled, nothing was sent")
    outcomes, interrupted = send_all(client, jobs, on_progress=on_progress)
    result = outcome_frame(plan, outcomes, previous, settled)
    if interrupted:
        stop = KeyboardInterrupt()
        stop.outcome = result  # type: ignore[attr-defined]
        raise stop
    return result


def _job(plan: WritePlan, row: PlannedRow, force: bool) -> Job | None:
    """The request for ``row``, or None when nothing needs sending (unchanged update, existing create)."""
    kind = plan.kind
    if kind == "update" and not row.changes and not force:
        return None
    if kind == "create" and row.existing_id is not None:
        return None
    path = plan.target.path(kind, row.parent_id, row.id)
    return Job(row.key, row.id, _METHOD[kind], path, row.body(kind, force=force))


def _check_budget(client: AutotaskClient, writes: int) -> None:
    """Refuse writes that would pass the tenant's hourly threshold (API-user mode), before the first one."""
    status = client.manager.status()
    threshold = getattr(status, "hourly_threshold", None)
    used = getattr(status, "hourly_requests", None)
    if threshold and used is not None and used + writes > threshold:
        raise RateLimitError(
            f"{writes:,} writes would pass the hourly threshold ({used:,} of {threshold:,} requests used this hour)",
            hint="split the frame, or wait for the hour to roll over",
        )


# ------------------------------------------------------------------------------------------ frames


def preview_frame(plan: WritePlan) -> pandas.DataFrame:
    """What a run would do: for updates one row per changed cell (id, field, current, new, note; a
    picklist's note names both labels, ``New → Complete``)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for row in plan.rows:
        if plan.kind != "create" and row.current is None:
            rows.append({"id": row.id, "field": None, "current": None, "new": None, "note": "id does not exist"})
        elif plan.kind == "update":
            for col, (old, new) in row.changes.items():
                note = label_change(plan.fields, col, old, new)  # picklist ids say little on their own
                rows.append({"id": row.id, "field": col, "current": old, "new": new, "note": note})
        elif plan.kind == "delete":
            rows.append({"id": row.id, "field": None, "current": None, "new": None, "note": "would be deleted"})
        else:
            note = f"exists as {row.existing_id}; not sent" if row.existing_id is not None else "would be created"
            body = row.body("create", force=True) or {}
            rows.append({"row": row.key, "body": body, "note": note})
    columns = ["row", "body", "note"] if plan.kind == "create" else ["id", "field", "current", "new", "note"]
    df = pd.DataFrame(rows, columns=columns)
    df.attrs["autotask"] = {"entity": plan.entity, "kind": plan.kind, "dry_run": True, "rows": len(plan.rows)}
    return df


def outcome_frame(
    plan: WritePlan,
    outcomes: dict[Any, Outcome],
    previous: pandas.DataFrame | None = None,
    settled: dict[Any, tuple[str, str]] | None = None,
) -> pandas.DataFrame:
    """One row per frame row (the frame's index): id or itemId, status, message."""
    import pandas as pd

    id_col = "itemId" if plan.kind == "create" else "id"
    records: dict[Any, dict[str, Any]] = {}
    if previous is not None:
        records.update({k: dict(v) for k, v in previous.to_dict("index").items()})
    for key, (status, message) in (settled or {}).items():
        records[key] = {**records.get(key, {}), "status": status, "message": message}
    for row in plan.rows:
        records[row.key] = _row_outcome(plan, row, outcomes.get(row.key), id_col)
        was = previous.at[row.key, "status"] if previous is not None else None
        if records[row.key]["message"] == _UNCHANGED and was == "unknown":
            records[row.key]["message"] = "re-read: the earlier write was applied; not sent again"
    index = list(previous.index) if previous is not None else []
    index += [k for k in records if k not in set(index)]
    df = pd.DataFrame([records[k] for k in index], index=pd.Index(index), columns=[id_col, "status", "message"])
    if plan.kind == "create":
        df[id_col] = df[id_col].astype("Int64")
    counts = df["status"].value_counts().to_dict()
    df.attrs["autotask"] = {"entity": plan.entity, "kind": plan.kind, "counts": counts, "sent": len(outcomes)}
    return df


def _row_outcome(plan: WritePlan, row: PlannedRow, outcome: Outcome | None, id_col: str) -> dict[str, Any]:
    if outcome is not None:
        ident = outcome.item_id if plan.kind == "create" else row.id
        return {id_col: ident, "status": outcome.status, "message": outcome.message}
    if plan.kind == "create":
        return {id_col: row.existing_id, "status": "ok", "message": "exists already (matched); not sent"}
    return {id_col: row.id, "status": "ok", "message": _UNCHANGED}


# ------------------------------------------------------------------------------------- retry, match


def _retry_rows(
    client: AutotaskClient,
    kind: Kind,
    entity: str,
    frame: Any,
    retry: pandas.DataFrame | None,
    match: Sequence[str] | None,
) -> tuple[Any, pandas.DataFrame | None, dict[Any, tuple[str, str]]]:
    """With a previous outcome: the rows to plan again, the outcome to merge into, rows settled without a write.

    ``failed`` and ``not sent`` rows are sent again. ``unknown`` updates are re-read (the diff decides),
    ``unknown`` deletes are re-read (gone means done), ``unknown`` creates are looked up by ``match``
    columns, and without them stay ``unknown``: a create cannot be re-read without a key.
    """
    if retry is None:
        return frame, None, {}
    import pandas as pd

    if not isinstance(retry, pd.DataFrame) or "status" not in retry.columns:
        raise ConfigurationError(f"{kind} {entity}: retry= needs the outcome frame of an earlier run")
    if kind == "delete" and not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame({"id": list(frame)})
    unknown_keys = set(retry.index[retry["status"] == "unknown"])
    again = set(retry.index[retry["status"].isin(["failed", "not sent"])]) | unknown_keys
    settled: dict[Any, tuple[str, str]] = {}
    if kind == "create" and not match:
        for key in unknown_keys:
            settled[key] = ("unknown", "outcome unknown; not sent again (give match columns to look it up)")
        again -= unknown_keys
    if kind == "delete" and unknown_keys:
        ids = {key: int(frame.loc[key, "id"]) for key in unknown_keys}
        found = read_current(client, entity, list(ids.values()), [])
        gone = {key for key, rid in ids.items() if rid not in found}
        settled.update(dict.fromkeys(gone, ("ok", "deleted (re-read: the id no longer exists)")))
        again -= gone
    missing = again - set(frame.index)
    if missing:
        raise ConfigurationError(f"{kind} {entity}: the outcome names rows the frame does not have: {sorted(missing)}")
    return frame.loc[[k for k in frame.index if k in again]], retry, settled


def _find_existing(client: AutotaskClient, plan: WritePlan) -> None:
    """Creates with match columns: the id of a record that already holds each row's values, if any."""
    assert plan.match
    infos = [info for c in plan.match if (info := plan.fields.get(c, udf=False)) is not None]  # checked: standard
    names = [info.name for info in infos]
    first = names[0]
    values = sorted({r.values[first] for r in plan.rows if r.values.get(first) is not None}, key=str)
    found: list[dict[str, Any]] = []
    for start in range(0, len(values), IN_BATCH):
        flt = [{"op": "in", "field": first, "value": values[start : start + IN_BATCH]}]
        found.extend(client.records(plan.entity, flt, fields=["id", *names]))
    for row in plan.rows:
        for rec in found:
            if all(same(rec.get(info.name), row.values.get(info.name), info) for info in infos):
                row.existing_id = int(rec["id"])
                break
