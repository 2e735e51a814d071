"""A query pulled into a DataFrame chunk by chunk; a pull that stops keeps everything it fetched."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from .. import _redact
from .._exceptions import IncompletePullError
from ._paging import PageInfo
from ._query_body import ALL_ROWS

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ._client import AutotaskClient
    from ._frames import FrameBuilder

__all__ = ["QUERY_CHUNK_PAGES", "pull_frame"]

log = _redact.get_logger("autotask_magic.http")

#: query() converts records to DataFrame columns every this many pages, then drops them (memory).
QUERY_CHUNK_PAGES = 10


def pull_frame(
    client: AutotaskClient,
    entity: str,
    flt: list[dict[str, Any]] | None,
    fields: Sequence[str] | None,
    limit: int | None,
    *,
    builder: FrameBuilder,
    parallel: bool = False,
    on_page: Callable[[PageInfo], None] | None = None,
) -> pandas.DataFrame:
    """Pull ``entity``'s records into ``builder`` every :data:`QUERY_CHUNK_PAGES` pages; the annotated frame.

    On ``IncompletePullError`` or ``KeyboardInterrupt`` the exception gets ``.frame``, ``.records`` and
    ``.pages`` (see :meth:`AutotaskClient.query`).
    """
    pages = [0]

    def progress(info: PageInfo) -> None:
        pages[0] = info.pages
        if on_page is not None:
            on_page(info)

    counter = [0]
    started = time.monotonic()
    chunk = QUERY_CHUNK_PAGES * client.page_size
    tail: list[dict[str, Any]] = []  # records received and not yet converted
    try:
        # _keep=False: the pager drops each record once yielded; this loop holds the only copy.
        it = client.records(
            entity,
            flt,
            fields,
            limit,
            on_page=progress,
            parallel=parallel,
            _counter=counter,
            _keep=False,
            _total=on_page is not None,
        )
        while True:
            tail.extend(islice(it, chunk - len(tail)))  # keeps what arrived if Ctrl-C lands mid-way
            if len(tail) < chunk:
                break
            builder.add(tail)  # all or nothing
            tail = []
        elapsed = time.monotonic() - started
        builder.add(tail)
        tail = []
        # Inside the try: Ctrl-C while the frame is built (or annotated) must not lose the records pulled.
        df = builder.frame()
        df.attrs["autotask"] = {
            "entity": entity,
            "filter": flt if flt else [dict(x) for x in ALL_ROWS],
            "request": f"POST /{entity}/query",
            "pages": pages[0],
            "records": len(df),
            "elapsed_s": round(elapsed, 3),
            "requests": counter[0] if not parallel else max(counter[0], pages[0]),
        }
    except (KeyboardInterrupt, IncompletePullError) as exc:
        _attach_partial(exc, entity, builder, tail, pages[0])
        raise
    return df


def _attach_partial(
    exc: BaseException, entity: str, builder: FrameBuilder, tail: list[dict[str, Any]], pages: int
) -> None:
    """Give a stopped query's exception everything fetched: ``.frame``, ``.records``, ``.pages``."""
    if tail and builder.last_added is tail:
        tail = []  # converted just before the interrupt landed
    # The pager attaches the records it fetched but had not yet yielded (they follow ours in order).
    rest = tail + list(getattr(exc, "records", None) or [])
    exc.records = rest  # type: ignore[attr-defined]
    exc.pages = getattr(exc, "pages", None) or pages  # type: ignore[attr-defined]
    try:
        built = builder.built
        builder.add(rest)
        # frame() already ran (the pull was complete): that frame is the result, with nothing to add.
        frame = built.copy() if built is not None and not rest else builder.frame()
        frame.attrs["autotask"] = {"entity": entity, "pages": exc.pages, "records": len(frame), "partial": True}  # type: ignore[attr-defined]
    except Exception:  # the raw records are still on .records
        log.warning("could not build the partial DataFrame of %s", entity, exc_info=True)
        frame = None
    exc.frame = frame  # type: ignore[attr-defined]
