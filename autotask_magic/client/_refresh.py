"""Refresh a frame pulled earlier with requests proportional to what changed.

The server evaluates the filter, never a local copy of its rules. With ``mark`` = the pull's
``started_at`` minus a safety margin and ``LM`` the entity's last-modified field (from its metadata):

(a) the query AND ``LM >= mark`` returns the changed rows that match (new rows included), sent together
    with (c) one ``query/count`` of the query;
(b) only when the count says rows are left over: ``LM >= mark`` with ``IncludeFields [id]`` returns every
    changed id, and rows that changed and no longer match are dropped;
(c) still more rows than the count: rows were deleted, which no query can show. It says so and falls back
    to a full pull (``fallback=False``: keeps the frame and reports how many rows are stale).

Rows the server holds = unchanged old rows + (a), so the count is exact proof the frame is right.
Relative dates keep the values resolved at the first pull (the provenance's ``filter``).
"""

from __future__ import annotations

import datetime as _dt
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .. import _redact
from .._exceptions import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ..entities import EntityFields
    from ._client import AutotaskClient

__all__ = ["DEFAULT_MARGIN", "last_modified_field", "refresh_frame"]

log = _redact.get_logger("autotask_magic.http")

#: Seconds subtracted from the pull's start (clock skew between this machine and the server).
DEFAULT_MARGIN = 300.0
_LAST_MODIFIED = ("lastModifiedDateTime", "lastModifiedDate", "lastModifiedTime", "lastActivityDate")


def last_modified_field(meta: EntityFields) -> str | None:
    """The field the server updates on every change of a record, or None."""
    for name in _LAST_MODIFIED:
        info = meta.get(name, udf=False)
        if info is not None and info.kind == "datetime" and info.is_queryable:
            return info.name
    return None


def refresh_frame(
    client: AutotaskClient, df: pandas.DataFrame, *, fallback: bool = True, margin: float | None = None
) -> pandas.DataFrame:
    """A frame equal to a fresh pull of ``df``'s resolved query; ``attrs["autotask"]["refresh"]`` says how."""
    info = dict(df.attrs.get("autotask") or {})
    entity, meta, lm = _refreshable(client, info)
    started = _dt.datetime.now(_dt.UTC)
    mark_margin = DEFAULT_MARGIN if margin is None else float(margin)
    mark = _dt.datetime.fromisoformat(info["started_at"]) - _dt.timedelta(seconds=mark_margin)
    since = {"op": "gte", "field": lm, "value": mark.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    flt = list(info.get("filter") or [])
    counter = [0]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autotask-refresh") as pool:
        count = pool.submit(client.count, entity, flt or None)  # (c) goes out with (a)
        changed = _pull(client, entity, [*flt, since], info)
        server_rows = count.result()
    counter[0] += 1
    expanded = [spec.split("=", 1)[0].strip() + "_name" for spec in info.get("expand") or ()]
    out, stats = _merge(df.drop(columns=[c for c in expanded if c in df.columns]), changed)
    stats.update(changed=len(changed), since=since["value"], field=lm, margin_s=mark_margin)
    if len(out) != server_rows:  # (b): rows left over; which changed rows no longer match?
        ids = {int(r["id"]) for r in client.records(entity, [since], ["id"], _counter=counter)}
        gone = ids - set(changed["id"].tolist()) if "id" in changed.columns else ids
        out = out[~out["id"].isin(gone)].reset_index(drop=True)
        stats["dropped"] = len(gone & set(df["id"].tolist()))
    if len(out) != server_rows:
        return _deleted(client, info, out, stats, len(out) - server_rows, fallback=fallback)
    if info.get("expand"):
        from ._expand import expand_frame

        stats["expand_requests"] = expand_frame(client, out, meta, info["expand"], parallel=bool(info.get("parallel")))
    stats["requests"] = counter[0] + int(changed.attrs.get("autotask", {}).get("requests", 0))
    out.attrs["autotask"] = {**info, "started_at": started.isoformat(), "records": len(out), "refresh": stats}
    return out


def _refreshable(client: AutotaskClient, info: dict[str, Any]) -> tuple[str, EntityFields, str]:
    """The entity, its metadata and last-modified field; refuses a frame a refresh cannot bring up to date."""
    entity = info.get("entity")
    if not entity or "started_at" not in info or info.get("partial"):
        raise ConfigurationError(
            "this frame cannot be refreshed: it has no complete pull's provenance (attrs['autotask'])",
            hint="refresh a frame returned by client.query() or %autotask query",
        )
    if info.get("limit") is not None:
        raise ConfigurationError("a frame pulled with a limit cannot be refreshed", hint="pull it again")
    meta = client.fields(entity)
    lm = last_modified_field(meta)
    if lm is None:
        raise ConfigurationError(
            f"{entity} has no last-modified field (lastActivityDate, lastModifiedDate…), so it cannot be refreshed; "
            "pull it again"
        )
    return entity, meta, lm


def _deleted(
    client: AutotaskClient,
    info: dict[str, Any],
    out: pandas.DataFrame,
    stats: dict[str, Any],
    stale: int,
    *,
    fallback: bool,
) -> pandas.DataFrame:
    """Rows were deleted on the server (no query shows them): a full pull, or the frame with ``stale`` said."""
    entity = info["entity"]
    stats["deleted"] = stale
    if not fallback:
        log.warning("%s: %d rows of the refreshed frame were deleted on the server", entity, stale)
        out.attrs["autotask"] = {**info, "refresh": {**stats, "stale": stale}}
        return out
    log.info("%s: %d rows were deleted on the server; pulling again", entity, stale)
    fresh = client.query(
        entity,
        filter=list(info.get("filter") or []) or None,
        fields=info.get("fields"),
        labels=bool(info.get("labels")),
        tz=info.get("tz") or "UTC",
        parallel=bool(info.get("parallel")),
        expand=info.get("expand") or None,
    )
    fresh.attrs["autotask"].update(where=info.get("where"), refresh={**stats, "fallback": "full pull"})
    return fresh


def _pull(client: AutotaskClient, entity: str, flt: list[dict[str, Any]], info: dict[str, Any]) -> pandas.DataFrame:
    """The changed rows that match, as the original pull would have built them (no expansion yet)."""
    return client.query(
        entity,
        filter=flt,
        fields=info.get("fields"),
        labels=bool(info.get("labels")),
        tz=info.get("tz") or "UTC",
    )


def _merge(old: pandas.DataFrame, changed: pandas.DataFrame) -> tuple[pandas.DataFrame, dict[str, Any]]:
    """Old rows not in ``changed``, plus ``changed``, in id order, with the old frame's columns and dtypes."""
    import pandas as pd

    if "id" not in old.columns:
        raise ConfigurationError("this frame has no id column, so it cannot be refreshed", hint="pull it again")
    base = old
    keep = base[~base["id"].isin(changed["id"])]
    new_ids = set(changed["id"].tolist()) - set(base["id"].tolist())
    parts = [p for p in (keep, changed) if len(p)] or [keep]
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
    out = out.sort_values("id", kind="stable", ignore_index=True)
    out = out[[c for c in base.columns if c in out.columns] + [c for c in out.columns if c not in base.columns]]
    for name, dtype in base.dtypes.items():
        if out[name].dtype != dtype:
            try:
                out[name] = out[name].astype(dtype)
            except (TypeError, ValueError):
                pass  # a fresh pull would type it from its values too
    return out, {"updated": int(len(changed) - len(new_ids)), "added": len(new_ids)}
