"""``AutotaskClient.query`` end to end: filter, resume, pull, provenance, expansion.

The frame's ``attrs["autotask"]`` (its provenance) holds what a refresh or a reader needs: the entity,
the condition as typed (``where``) and as sent (``filter``: relative dates resolved), ``fields``,
``limit``, ``labels``, ``tz``, ``parallel``, ``expand`` and ``started_at`` (UTC, when the pull began).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError, IncompletePullError
from ._paging import PageInfo
from ._resume import ResumeState, query_key, store_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ._client import AutotaskClient

__all__ = ["run_query"]


def utc_now() -> _dt.datetime:
    """The client's clock for ``started_at`` (tests may replace it)."""
    return _dt.datetime.now(_dt.UTC)


def run_query(
    client: AutotaskClient,
    entity: str,
    where: str | None,
    *,
    filter: Sequence[dict[str, Any]] | None,
    fields: Sequence[str] | None,
    limit: int | None,
    labels: bool,
    params: Mapping[str, Any] | None,
    tz: str,
    parallel: bool,
    on_page: Callable[[PageInfo], None] | None,
    expand: Sequence[str] | str | None = None,
    resume: bool = False,
    key: str | None = None,
) -> pandas.DataFrame:
    """See :meth:`AutotaskClient.query`; ``key`` names the query for resume (default: its typed form)."""
    from ..query import parse_where, validate_filter
    from ..query._relative import has_relative, resolve_dates
    from ._expand import expand_frame, parse_expand
    from ._frames import FrameBuilder
    from ._published import check_published
    from ._pull import pull_frame

    if where is not None and filter is not None:
        raise ConfigurationError("give either where= or filter=, not both")
    check_published("POST", f"{entity}/query")  # before the metadata: the query is what is asked
    specs = parse_expand(expand)
    meta = client.fields(entity)
    fields = list(fields) if fields else None
    if key is None:
        key = query_key(entity, where if filter is None else list(filter), fields, limit, labels, tz)
    store = store_of(client)
    state = store.take(key) if resume else None
    started = utc_now()
    typed = list(filter) if filter is not None else (parse_where(where, params) if where else None)
    if state is not None:
        flt = state.filter  # relative dates keep the values resolved at the first attempt
        pull_filter = state.continued_filter()
        left = None if limit is None else max(limit - len(state.frame), 0)
    else:
        # Relative dates resolve now, in the query's zone; literals without a zone read in it too.
        flt = resolve_dates(validate_filter(typed, meta, entity=entity), meta, tz) if typed else None
        pull_filter, left = flt, limit
    builder = FrameBuilder(fields=meta, include_fields=fields, labels=labels, tz=tz)
    try:
        if left == 0:
            df = state.frame.iloc[0:0].copy() if state is not None else None
        else:
            df = pull_frame(
                client, entity, pull_filter, fields, left, builder=builder, parallel=parallel, on_page=on_page
            )
    except (KeyboardInterrupt, IncompletePullError) as exc:
        _keep_state(key, exc, entity, flt, pull_filter, state, parallel, started, client)
        raise
    if state is not None:
        df = _joined(state, df)
    assert df is not None
    first_start = (state.started_at or started) if state is not None else started
    info = _provenance(df, entity, where, flt, fields, limit, labels, tz, parallel, specs, first_start, state)
    if typed and has_relative(typed):
        info["relative"] = True  # a refresh keeps the values resolved by the first pull: it says so
    if specs:
        info["expand_requests"] = expand_frame(client, df, meta, specs, parallel=parallel)
    return df


def _provenance(
    df: pandas.DataFrame,
    entity: str,
    where: str | None,
    flt: list[dict[str, Any]] | None,
    fields: list[str] | None,
    limit: int | None,
    labels: bool,
    tz: str,
    parallel: bool,
    specs: list[str],
    started: _dt.datetime,
    state: ResumeState | None,
) -> dict[str, Any]:
    """``df.attrs["autotask"]``: what was asked (typed and resolved) and how, for readers and refresh."""
    info: dict[str, Any] = df.attrs.setdefault("autotask", {"entity": entity})
    if where is not None:
        info["where"] = where
    info.update(
        filter=flt if flt else info.get("filter"),
        fields=fields,
        limit=limit,
        labels=labels,
        tz=tz,
        parallel=parallel,
        expand=specs,
        started_at=started.isoformat(),
    )
    if state is not None:
        info.update(resumed=True, requests=info.get("requests", 0) + state.requests, pages=info["pages"] + state.pages)
    return info


def _keep_state(
    key: str,
    exc: BaseException,
    entity: str,
    flt: list[dict[str, Any]] | None,
    sent: list[dict[str, Any]] | None,
    previous: ResumeState | None,
    parallel: bool,
    started: _dt.datetime,
    client: AutotaskClient,
) -> None:
    """Remember a stopped pull (the frame of every record so far, a resumed attempt's earlier part included)."""
    frame = getattr(exc, "frame", None)
    if frame is None:
        return
    pages = int(getattr(exc, "pages", 0) or 0)
    requests = pages
    part = frame
    if previous is not None:
        frame = _joined(previous, frame)
        exc.frame = frame  # type: ignore[attr-defined]
        pages += previous.pages
        requests += previous.requests
    first_start = previous.started_at if previous is not None else started
    ranges = getattr(exc, "partitions", None)
    state = ResumeState(entity, flt, frame, pages, requests, parallel, first_start, ranges, sent, part)
    store_of(client).save(key, state)


def _joined(state: ResumeState, rest: pandas.DataFrame) -> pandas.DataFrame:
    """The earlier records, then the rest (ids already held dropped), in id order like a fresh pull."""
    import pandas as pd

    first = state.frame
    if "id" in rest.columns and "id" in first.columns:
        rest = rest[~rest["id"].isin(first["id"])]
    parts = [p for p in (first, rest) if len(p)] or [first]
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    if state.parallel and "id" in df.columns:
        df = df.sort_values("id", kind="stable", ignore_index=True)
    for name, dtype in first.dtypes.items():
        if name in df.columns and df[name].dtype != dtype:
            df[name] = df[name].astype(dtype)
    df.attrs = {"autotask": dict(rest.attrs.get("autotask") or {}, entity=state.entity)}
    return df
