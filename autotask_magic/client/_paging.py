"""Query pages and the sequential pull: POST-next with the same body, the next page fetched in the background.

:class:`Page` and :func:`scan_page` are the seam shared with partitioned pulls (``_parallel``): the
client turns each answer into a :class:`Page` whose ``nextPageUrl`` is read from the bytes, so the next
request goes out before the page is parsed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .._exceptions import AutotaskError, IncompletePullError, ServerError

__all__ = ["Page", "PageInfo", "incomplete", "iter_records", "page_error", "scan_page"]

# Hand-off of the next request to the prefetch worker (see _Pager.send_next): bounded waits, in seconds.
_HANDOFF_WAIT = 0.05
_HANDOFF_SLEEP = 0.001

logger = logging.getLogger("autotask_magic.http")


@dataclass(frozen=True)
class PageInfo:
    """Progress after each page: pages read, records so far, and the total if known."""

    pages: int
    records: int
    total_estimate: int | None = None


class Page:
    """One page of a query: its records and the absolute ``nextPageUrl`` (None on the last page).

    A page may hold the raw response body instead of parsed records: the thread that fetched it then only
    finds ``nextPageUrl`` in the bytes (:func:`scan_page`) and sends the next request at once, and the
    JSON is parsed on the consumer's thread while that request is in flight.
    """

    __slots__ = ("_count", "_items", "next_url", "raw")

    def __init__(
        self,
        items: list[dict[str, Any]] | None = None,
        next_url: str | None = None,
        *,
        raw: bytes | None = None,
        count: int | None = None,
    ) -> None:
        self._items = items
        self.next_url = next_url
        self.raw = raw
        self._count = count

    @classmethod
    def from_json(cls, data: Any) -> Page:
        """A page from a parsed query answer (anything but an object is an empty last page)."""
        if not isinstance(data, dict):
            return cls([], None)
        details = data.get("pageDetails") or {}
        nxt = details.get("nextPageUrl") if isinstance(details, dict) else None
        return cls(list(data.get("items") or []), str(nxt) if nxt else None)

    @property
    def items(self) -> list[dict[str, Any]]:
        """The page's records (parsed from ``raw`` on first access; the scan is checked against it)."""
        if self._items is None:
            try:
                data = json.loads(self.raw or b"{}")
            except RecursionError:
                data = _TOO_DEEP
            if data is _TOO_DEEP:
                self.raw = None
                raise ServerError("a page's JSON is nested too deeply to read", hint="check the server")
            parsed = Page.from_json(data)
            if parsed.next_url != self.next_url or (self._count is not None and self._count != len(parsed.items)):
                raise ServerError(
                    "a page's nextPageUrl or count differs from what was read ahead",
                    hint="run the query again, or without parallel=True",
                )
            self._items, self.raw = parsed.items, None
        return self._items

    @property
    def size(self) -> int:
        """Records on the page (without parsing when the page said how many)."""
        return self._count if self._count is not None else len(self.items)


_TOO_DEEP = object()  # json.loads raised RecursionError (a hostile answer)
_NEXT = re.compile(rb'"nextPageUrl"\s*:\s*("(?:[^"\\]|\\.)*"|null)')
_COUNT = re.compile(rb'"count"\s*:\s*(\d+)')


def scan_page(raw: bytes) -> Page | None:
    """A raw page whose ``nextPageUrl`` (and count) were found without parsing, or None if not found.

    Record values cannot fake the key: a quote inside a JSON string is escaped. The last match is the
    page's own ``pageDetails``; :attr:`Page.items` verifies it when it parses the page.
    """
    nexts = _NEXT.findall(raw[-4096:]) or _NEXT.findall(raw)
    if not nexts:
        return None
    token = nexts[-1]
    next_url = None if token == b"null" else json.loads(token)
    counts = _COUNT.findall(raw[-4096:])
    return Page(None, str(next_url) if next_url else None, raw=raw, count=int(counts[-1]) if counts else None)


def page_error(exc: BaseException) -> BaseException:
    """The error to report for a page that failed to parse (a JSON error becomes a ServerError)."""
    if isinstance(exc, ValueError) and not isinstance(exc, AutotaskError):
        return ServerError(f"a page is not valid JSON ({type(exc).__name__})", hint="run the query again")
    return exc


def incomplete(
    entity: str,
    records: list[dict[str, Any]],
    pages: int,
    cause: BaseException,
    *,
    request: str | None = None,
    total: int | None = None,
    parallel: bool = False,
) -> IncompletePullError:
    """The error of a pull that stopped after its first page, carrying every record fetched (``.records``)."""
    if isinstance(cause, IncompletePullError):
        return cause
    total = len(records) if total is None else total
    kind, order = ("parallel pull", " (in id order)") if parallel else ("pull", "")
    err = IncompletePullError(
        f"{kind} of {entity} stopped after {pages} page(s) and {total} record(s): {cause}",
        status=getattr(cause, "status", None),
        request=request if request is not None else getattr(cause, "request", None),
        hint=f"the records fetched so far are in err.records{order}; run the query again to get the rest",
    )
    err.records = records
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
    count: Callable[[], int] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every record, page by page, stopping at ``limit`` without fetching pages it does not need.

    While the caller consumes a page, the next one is fetched by one background worker. A failure after
    the first page raises :class:`IncompletePullError` carrying every record fetched so far. With
    ``keep_records=False`` the caller keeps what it was given (``query()`` converts it as it goes), so
    the pager holds no record once yielded, and the error's ``.records`` (like the ``.records`` a Ctrl-C
    in ``on_page`` gets) are only those fetched but not yet yielded.

    ``count`` (``query/count``) gives progress its total: it is sent together with the second page, so
    it costs no wall time and a one-page answer never sends it. Its answer is used once it has arrived
    (capped by ``limit``); the last report's total is what was fetched, whatever the count said.
    """
    pager = _Pager(fetch_next, entity, limit, on_page, check_next, request, total_estimate, keep_records)
    pager.count = count if total_estimate is None else None
    page = fetch_first()  # the first page's errors are the user's errors: raise them as they are
    yield from pager.run(page)


class _Pager:
    """One sequential pull: the records fetched so far, and at most one next page in flight."""

    def __init__(
        self,
        fetch_next: Callable[[str], Page],
        entity: str,
        limit: int | None,
        on_page: Callable[[PageInfo], None] | None,
        check_next: Callable[[str], None] | None,
        request: str | None,
        total_estimate: int | None,
        keep_records: bool,
    ) -> None:
        self.fetch_next = fetch_next
        self.entity = entity
        self.limit = limit
        self.on_page = on_page
        self.check_next = check_next
        self.request = request
        self.total_estimate = total_estimate
        self.keep_records = keep_records
        self.fetched: list[dict[str, Any]] = []  # with keep_records=False: only the page not yet yielded
        self.total = 0  # records fetched so far
        self.pages = 0
        self.executor: ThreadPoolExecutor | None = None
        self.pending: Future[Page] | None = None
        self.count: Callable[[], int] | None = None
        self.counting: Future[int] | None = None  # the query/count sent with the second page

    def incomplete(self, cause: BaseException, pages: int) -> IncompletePullError:
        return incomplete(self.entity, self.fetched, pages, cause, request=self.request, total=self.total)

    def run(self, page: Page) -> Iterator[dict[str, Any]]:
        try:
            while True:
                self.pages += 1
                items, done = self.take(page)
                yield from items
                if not self.keep_records:
                    self.fetched.clear()  # the caller has them now
                if done:
                    return
                assert self.pending is not None
                try:
                    page = self.pending.result()
                except AutotaskError as exc:
                    raise self.incomplete(exc, self.pages) from exc
                finally:
                    self.pending = None
        finally:
            if self.pending is not None:
                self.pending.cancel()
            if self.counting is not None:
                self.counting.cancel()
            if self.executor is not None:
                # Join the worker so no thread outlives the pull (it finishes its one in-flight request).
                self.executor.shutdown(wait=True, cancel_futures=True)

    def take(self, page: Page) -> tuple[list[dict[str, Any]], bool]:
        """Keep ``page``'s records (cut at the limit), report progress, and send the next request."""
        limit = self.limit
        if limit is not None and self.total + 2 * page.size >= limit:
            self.count = None  # the limit makes the next page the last: a total would say nothing new
        # nextPageUrl known from the bytes: the next request goes out now, and this page is parsed while
        # it is in flight (unless the limit ends the pull with this page).
        read_ahead = page.raw is not None and page.next_url and page.size
        if read_ahead and not (limit is not None and self.total + page.size >= limit):
            assert page.next_url is not None
            try:
                self.pending = self.send_next(page.next_url)
            except IncompletePullError:
                self.pending = None  # refused URL: raised again below, once this page's records are kept
        try:
            items = page.items
        except (ValueError, AutotaskError) as exc:
            cause = page_error(exc)
            if self.pages == 1:
                raise cause from None
            raise self.incomplete(cause, self.pages - 1) from exc
        if limit is not None:
            items = items[: max(0, limit - self.total)]
        if not self.keep_records:
            self.fetched.clear()
        self.fetched.extend(items)
        self.total += len(items)
        done = not page.next_url or not items or (limit is not None and self.total >= limit)
        self.report(done)
        if not done and self.pending is None:
            assert page.next_url is not None
            self.pending = self.send_next(page.next_url)
        return items, done

    def report(self, done: bool = False) -> None:
        if self.on_page is None:
            return
        total = self.total if done else self.known_total()
        try:
            self.on_page(PageInfo(self.pages, self.total, total))
        except KeyboardInterrupt as exc:
            # Ctrl-C in a progress callback: this page was fetched but not yet yielded; hand it over.
            exc.records = list(self.fetched)  # type: ignore[attr-defined]
            exc.pages = self.pages  # type: ignore[attr-defined]
            raise

    def known_total(self) -> int | None:
        """The total for progress: the count once it has arrived (never waited for), capped by the limit."""
        counting = self.counting
        if self.total_estimate is None and counting is not None and counting.done():
            self.counting = None
            try:
                self.total_estimate = counting.result()
            except Exception as exc:  # only progress needs it: the pull goes on without a total
                logger.debug("query/count for progress failed (%s)", type(exc).__name__)
        total = self.total_estimate
        if total is not None and self.limit is not None:
            total = min(total, self.limit)
        # A count lower than what already arrived (records added meanwhile) is plainly wrong.
        return None if total is None else max(total, self.total)

    def send_next(self, next_url: str) -> Future[Page]:
        if self.check_next is not None:
            try:
                self.check_next(next_url)  # refuses before anything is sent
            except AutotaskError as exc:
                raise self.incomplete(exc, self.pages) from exc
        if self.executor is None:
            workers = 2 if self.count is not None else 1
            self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="autotask-prefetch")
        started = threading.Event()
        fetch_next = self.fetch_next

        def task() -> Page:
            started.set()
            return fetch_next(next_url)

        future = self.executor.submit(task)
        if self.count is not None:  # the second page: the count goes out with it, on its own thread
            count, self.count = self.count, None
            self.counting = self.executor.submit(count)
        # The caller parses the page next: json.loads holds the GIL for milliseconds, and a worker that
        # has not yet put its request on the wire would wait for it, adding that to every page's round
        # trip (latency-bound pulls measured 1.06x pages x latency instead of 1.03x). So let the worker
        # start and build its request first: wait until it runs, then yield the GIL for a moment.
        started.wait(_HANDOFF_WAIT)
        time.sleep(_HANDOFF_SLEEP)
        return future
