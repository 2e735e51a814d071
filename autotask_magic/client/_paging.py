"""Following ``nextPageUrl``: POST-next with the same body, prefetching the next page in the background."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .._exceptions import AutotaskError, IncompletePullError

__all__ = ["MAX_PAGE_SIZE", "PageInfo", "iter_records"]

MAX_PAGE_SIZE = 500

# Hand-off of the next request to the prefetch worker (see send_next): bounded waits, in seconds.
_HANDOFF_WAIT = 0.05
_HANDOFF_SLEEP = 0.001


@dataclass(frozen=True)
class PageInfo:
    """Progress after each page: pages read, records so far, and the total if known."""

    pages: int
    records: int
    total_estimate: int | None = None


Page = dict[str, Any]


def _items(page: Any) -> tuple[list[dict[str, Any]], str | None]:
    if not isinstance(page, dict):
        return [], None
    items = page.get("items") or []
    details = page.get("pageDetails") or {}
    nxt = details.get("nextPageUrl") if isinstance(details, dict) else None
    return list(items), (str(nxt) if nxt else None)


def _incomplete(
    entity: str,
    fetched: list[dict[str, Any]],
    pages: int,
    cause: BaseException,
    request: str | None,
    total: int | None = None,
) -> IncompletePullError:
    total = len(fetched) if total is None else total
    err = IncompletePullError(
        f"pull of {entity} stopped after {pages} page(s) and {total} record(s): {cause}",
        request=request,
        hint="the records fetched so far are in err.records; run the query again to get the rest",
    )
    err.records = fetched
    err.pages = pages
    err.cause = cause
    return err


def iter_records(
    fetch_first: Callable[[], Page],
    fetch_next: Callable[[str], Page],
    *,
    entity: str,
    limit: int | None = None,
    on_page: Callable[[PageInfo], None] | None = None,
    check_next: Callable[[str], None] | None = None,
    request: str | None = None,
    total_estimate: int | None = None,
    keep_records: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield every record, page by page, stopping at ``limit`` without fetching pages it does not need.

    While the caller consumes a page, the next one is fetched by one background worker. A failure after
    the first page raises :class:`IncompletePullError` carrying every record fetched so far. With
    ``keep_records=False`` the caller keeps what it was given (``query()`` converts it as it goes), so
    the pager holds no record once yielded, and the error's ``.records`` (like the ``.records`` a Ctrl-C
    in ``on_page`` gets) are only those fetched but not yet yielded.
    """
    fetched: list[dict[str, Any]] = []  # with keep_records=False: only the page not yet yielded
    total = 0  # records fetched so far
    pages = 0
    page = fetch_first()  # the first page's errors are the user's errors: raise them as they are
    executor: ThreadPoolExecutor | None = None
    pending: Future[Page] | None = None

    def send_next(next_url: str) -> Future[Page]:
        nonlocal executor
        if check_next is not None:
            try:
                check_next(next_url)  # refuses before anything is sent
            except AutotaskError as exc:
                raise _incomplete(entity, fetched, pages, exc, request, total) from exc
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autotask-prefetch")
        started = threading.Event()

        def task() -> Page:
            started.set()
            return fetch_next(next_url)

        future = executor.submit(task)
        # The caller parses the page next: json.loads holds the GIL for milliseconds, and a worker that
        # has not yet put its request on the wire would wait for it, adding that to every page's round
        # trip (latency-bound pulls measured 1.06x pages x latency instead of 1.03x). So let the worker
        # start and build its request first: wait until it runs, then yield the GIL for a moment.
        started.wait(_HANDOFF_WAIT)
        time.sleep(_HANDOFF_SLEEP)
        return future

    try:
        while True:
            pages += 1
            if getattr(page, "raw", None) is not None and not isinstance(page, dict):
                # A read-ahead page (_parallel.scan_page): nextPageUrl is known from the bytes, so the next
                # request goes out now and this page is parsed while it is in flight.
                next_url = page.next_url
                size = page.size
                if next_url and size and not (limit is not None and total + size >= limit):
                    try:
                        pending = send_next(next_url)
                    except IncompletePullError:
                        pending = None  # refused URL: raised again below, once this page's records are kept
                try:
                    items = page.items
                except (ValueError, AutotaskError) as exc:
                    cause = exc if isinstance(exc, AutotaskError) else AutotaskError("a page is not valid JSON")
                    if pages == 1:
                        raise cause from None
                    raise _incomplete(entity, fetched, pages - 1, cause, request, total) from exc
            else:
                items, next_url = _items(page)
            if limit is not None:
                items = items[: max(0, limit - total)]
            if not keep_records:
                fetched.clear()
            fetched.extend(items)
            total += len(items)
            done = not next_url or not items or (limit is not None and total >= limit)
            if on_page is not None:
                try:
                    on_page(PageInfo(pages, total, total_estimate))
                except KeyboardInterrupt as exc:
                    # Ctrl-C in a progress callback: this page was fetched but not yet yielded; hand it over.
                    exc.records = list(fetched)  # type: ignore[attr-defined]
                    exc.pages = pages  # type: ignore[attr-defined]
                    raise
            if not done and pending is None:
                assert next_url is not None
                pending = send_next(next_url)
            yield from items
            if not keep_records:
                fetched.clear()  # the caller has them now
            if done:
                return
            assert pending is not None
            try:
                page = pending.result()
            except AutotaskError as exc:
                raise _incomplete(entity, fetched, pages, exc, request, total) from exc
            finally:
                pending = None
    finally:
        if pending is not None:
            pending.cancel()
        if executor is not None:
            # Join the worker so no thread outlives the pull (it finishes its one in-flight request).
            executor.shutdown(wait=True, cancel_futures=True)
