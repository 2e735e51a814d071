"""Id-range partitioned pulls within the API's concurrency limit (``records(..., parallel=True)``).

A sequential pull is a chain: page k+1's URL is only known once page k has arrived, so it costs
``pages x latency`` however fast the client is. Autotask allows 3 requests in flight per endpoint, so
a big pull can run as up to 3 independent chains over disjoint id ranges:

1. the first page and ``query/count`` are requested together;
2. the first page's ids (the API pages in ascending id order) give the id density, the count gives how
   many records are left, and the ids above the first page are cut into partitions holding a whole
   number of pages each: ``user filter AND id >= lo AND id < hi``;
3. the **last partition is open-ended** (``id >= lo``), so no record is missed when ids are sparse,
   the estimate is off, or rows are created during the pull;
4. each partition pages sequentially (POST-next with the same body) on its own thread, at most
   ``max_in_flight`` at a time; records come out in id order, as a sequential pull yields them.

Costs compared with a sequential pull: the count call and at most one short page per extra
partition, which is why parallel pulls are opt-in (see :data:`MIN_PARALLEL_PAGES`). A partition that
still fails after the client's retries stops the pull with :class:`IncompletePullError` carrying every
record fetched so far (in id order).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol

from .._exceptions import AutotaskError, IncompletePullError, ServerError
from ._limits import stop_on
from ._paging import PageInfo

__all__ = [
    "MAX_IN_FLIGHT",
    "MIN_PARALLEL_PAGES",
    "PAGE_SIZE",
    "Page",
    "PageFetcher",
    "Partition",
    "parallel_records",
    "plan_partitions",
    "scan_page",
]

logger = logging.getLogger("autotask_magic.parallel")

#: Records per page (the API's maximum and the client's page size).
PAGE_SIZE = 500
#: Autotask's limit: concurrent requests per endpoint per integration.
MAX_IN_FLIGHT = 3
#: Below this many pages left after the first page, partitioning cannot pay for its extra requests and
#: the pull continues sequentially (follows the first page's ``nextPageUrl``).
MIN_PARALLEL_PAGES = 3

# How long a blocked consumer waits between checks that the workers are still alive.
_POLL_SECONDS = 0.5
# How long the consumer yields the GIL to a partition that has just handed over a page (seconds).
_HANDOFF_SLEEP = 0.001
# How long a pull that ends waits for its partition threads (one request each at most), and for a
# thread whose start was interrupted to begin.
_JOIN_SECONDS = 60.0
_START_GRACE = 1.0
# A partition thread that has not begun this long after its start() is taken as lost (it never will).
_LOST_SECONDS = 10.0
# Safety margin of the partition boundaries, in standard deviations of their estimate.
_MARGIN_K = 0.5


class Page:
    """One page of a query: its records and the absolute ``nextPageUrl`` (None on the last page).

    A page may hold the raw response body instead of parsed records: the partition's thread then only
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

    @property
    def items(self) -> list[dict[str, Any]]:
        """The page's records (parsed from ``raw`` on first access; the scan is checked against it)."""
        if self._items is None:
            data = json.loads(self.raw or b"{}")
            items = list((data.get("items") if isinstance(data, dict) else None) or [])
            details = (data.get("pageDetails") if isinstance(data, dict) else None) or {}
            nxt = details.get("nextPageUrl") if isinstance(details, dict) else None
            if (str(nxt) if nxt else None) != self.next_url or (self._count is not None and self._count != len(items)):
                raise ServerError(
                    "a page's nextPageUrl or count differs from what was read ahead",
                    hint="run the query again, or without parallel=True",
                )
            self._items, self.raw = items, None
        return self._items

    @property
    def size(self) -> int:
        """Records on the page (without parsing when the page said how many)."""
        return self._count if self._count is not None else len(self.items)


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


class PageFetcher(Protocol):
    """What a partitioned pull needs from the client (limits, retries and URL checks included)."""

    def fetch_page(self, entity: str, body: dict[str, Any], next_url: str | None) -> Page:
        """POST ``{entity}/query`` (``next_url`` None) or POST ``next_url`` with the same ``body``."""
        ...

    def count(self, entity: str, filter: list[dict[str, Any]]) -> int:
        """``POST {entity}/query/count`` with that filter."""
        ...


@dataclass(frozen=True)
class Partition:
    """Records with ``lo <= id < hi`` (``hi`` None: open-ended) that also match the user's filter."""

    index: int
    lo: int
    hi: int | None
    expected: int = 0

    def filter(self, user_filter: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The user's filter AND the id range (top-level conditions of a filter list are and-ed)."""
        out = [dict(node) for node in user_filter]
        out.append({"op": "gte", "field": "id", "value": self.lo})
        if self.hi is not None:
            out.append({"op": "lt", "field": "id", "value": self.hi})
        return out


def plan_partitions(
    first_ids: Sequence[int],
    total: int,
    *,
    max_partitions: int = MAX_IN_FLIGHT,
    page_size: int = PAGE_SIZE,
    limit: int | None = None,
) -> list[Partition]:
    """Cut the ids above the first page into partitions of whole pages each; the last one is open-ended.

    ``first_ids`` are the first page's ids (ascending), ``total`` the count of matching records. The id
    density of the first page is extrapolated, so each bounded partition is expected to hold an exact
    multiple of ``page_size`` records (no short page in the middle when ids are dense). Returns ``[]``
    when fewer than :data:`MIN_PARALLEL_PAGES` pages are left: continuing sequentially is cheaper.
    """
    if not first_ids:
        return []
    wanted = total if limit is None else min(total, limit)
    remaining = wanted - len(first_ids)
    pages_left = math.ceil(max(0, remaining) / page_size)
    if pages_left < MIN_PARALLEL_PAGES:
        return []
    n = max(1, min(max_partitions, pages_left))
    last = int(first_ids[-1])
    # Ids per record on the first page (>= 1 because ids are unique integers), and how irregular the
    # gaps are: the boundary after R records is uncertain by about sd * sqrt(R) ids.
    steps = [b - a for a, b in itertools.pairwise(first_ids)]
    spacing = max(1.0, sum(steps) / len(steps)) if steps else 1.0
    sd = math.sqrt(sum((x - spacing) ** 2 for x in steps) / len(steps)) if steps else 0.0
    per = [pages_left // n + (1 if i < pages_left % n else 0) for i in range(n)]
    parts: list[Partition] = []
    lo = last + 1
    records_before = 0
    for i, pages in enumerate(per):
        expected = min(pages * page_size, remaining - records_before)
        records_before += pages * page_size
        if i == n - 1:
            parts.append(Partition(i, lo, None, expected))
            break
        # Aim a little short of the page multiple (2.5 sd of the boundary), so a bounded partition rarely
        # spills one record onto an extra page; the open-ended last partition absorbs the difference.
        margin = math.ceil(_MARGIN_K * sd * math.sqrt(records_before + records_before**2 / len(first_ids)) / spacing)
        hi = last + 1 + round((records_before - margin) * spacing)
        hi = max(hi, lo + 1)
        parts.append(Partition(i, lo, hi, expected))
        lo = hi
    return parts


class _Worker:
    """State of one partition: its pages arrive on a queue the consumer drains in partition order."""

    def __init__(self, part: Partition) -> None:
        self.part = part
        self.pages: queue.Queue[Page | None] = queue.Queue()  # None marks the end
        self.fetched = 0  # records fetched so far (read by later partitions for the limit)
        self.buffered: list[Page | None] = []  # pages taken off the queue but not yet yielded
        self.done = threading.Event()  # set when the partition has stopped fetching
        self.thread: tuple[threading.Thread, threading.Event] | None = None  # (thread, began) once started
        self.started_at = 0.0

    def lost(self) -> bool:
        """True when the partition's thread ended without saying so, or never began: no page will come."""
        if self.thread is None or self.done.is_set():
            return False
        return not _thread_may_deliver(*self.thread, self.started_at)


def _thread_may_deliver(t: threading.Thread, entered: threading.Event, since: float) -> bool:
    """False once a crew thread has ended, or has not begun within :data:`_LOST_SECONDS` of its start."""
    if entered.is_set():
        return t.is_alive()
    return time.monotonic() - since < _LOST_SECONDS


class _Crew:
    """The pull's threads: registered before they start, stopped by one Event, joined with a bound.

    ThreadPoolExecutor registers a thread only once ``Thread.start()`` has returned, so a Ctrl-C landing
    inside ``start()`` left a running thread that ``shutdown(wait=True)`` neither stopped nor joined, and
    its joins have no bound. Here every thread is in :attr:`threads` before it is started, checks
    :attr:`stop` before each request, and :meth:`close` waits for each one at most a bounded time.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.stop = threading.Event()
        self.threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(self, fn: Callable[[], None]) -> tuple[threading.Thread, threading.Event]:
        """Run ``fn`` on a new daemon thread (it must check :attr:`stop`); returns it and its 'began' event."""
        entered = threading.Event()

        def main() -> None:
            entered.set()
            # Waits for a rate or concurrency slot end when the pull stops (Ctrl-C must not wait them out).
            with stop_on(self.stop):
                fn()

        t = threading.Thread(target=main, name=f"{self.prefix}_{len(self.threads)}", daemon=True)
        # Registered before start(): an interrupt inside start() cannot leave it running unseen.
        self.threads.append((t, entered))
        t.start()
        return t, entered

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on a crew thread; its outcome goes to the returned future."""
        fut: Future[Any] = Future()

        def call() -> None:
            # Not when stopping or cancelled; once running, cancel() can no longer change its state.
            if self.stop.is_set() or not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to the consumer's thread
                fut.set_exception(exc)

        fut.crew_thread = self.start(call)  # type: ignore[attr-defined]
        return fut

    def result(self, fut: Future[Any]) -> Any:
        """``fut``'s result, waited for in steps: a thread that ended or never began cannot hang us."""
        t, entered = fut.crew_thread  # type: ignore[attr-defined]
        since = time.monotonic()
        while True:
            try:
                return fut.result(timeout=_POLL_SECONDS)
            except FutureTimeout:
                if not _thread_may_deliver(t, entered, since):
                    raise RuntimeError("a partition thread ended without a result") from None

    def close(self, timeout: float) -> list[threading.Thread]:
        """Stop every thread and join it, ``timeout`` s at most in all; returns those still running."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        late: list[threading.Thread] = []
        for t, entered in self.threads:
            # A thread whose start() was cut short may not have begun yet: give it a moment to begin
            # (it then sees `stop` and ends at once); one that never began has nothing to join.
            if not entered.wait(max(0.0, min(_START_GRACE, deadline - time.monotonic()))):
                continue
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                late.append(t)
        if late:
            logger.warning(
                "%d partition thread(s) still running after %.0f s; left to finish on their own", len(late), timeout
            )
        return late


def parallel_records(
    fetcher: PageFetcher,
    entity: str,
    body: dict[str, Any],
    *,
    limit: int | None = None,
    on_page: Callable[[PageInfo], None] | None = None,
    max_in_flight: int = MAX_IN_FLIGHT,
    page_size: int = PAGE_SIZE,
    keep_records: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield the records of ``body``'s query in id order, pulled by up to ``max_in_flight`` partitions.

    ``body`` is the query body (``filter`` required; ``IncludeFields`` must contain ``id``), and
    ``page_size`` its ``MaxRecords`` (partitions are planned in whole pages of that size).
    ``on_page(PageInfo)`` runs on the caller's thread as each page is handed over. Errors on the first
    page are raised as they are (nothing was fetched); later failures raise :class:`IncompletePullError`.
    With ``keep_records=False`` the caller keeps what it was given, and the error's ``.records`` (like
    the ``.records`` a Ctrl-C in ``on_page`` gets) are only those fetched but not yet yielded.
    """
    user_filter: list[dict[str, Any]] = list(body["filter"])
    max_in_flight = max(1, min(int(max_in_flight), MAX_IN_FLIGHT))
    pages_done = 0
    records_done = 0
    # Everything fetched, for IncompletePullError: the yielded records plus what is still buffered.
    yielded: list[dict[str, Any]] = []
    total: int | None = None

    def emit(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal pages_done, records_done
        pages_done += 1
        if limit is not None:
            items = items[: max(0, limit - records_done)]
        records_done += len(items)
        if keep_records:
            yielded.extend(items)
        if on_page is not None:
            try:
                on_page(PageInfo(pages_done, records_done, total))
            except KeyboardInterrupt as exc:
                # Ctrl-C in a progress callback: this page was fetched but not yet yielded; hand it over.
                exc.records = list(yielded) if keep_records else list(items)  # type: ignore[attr-defined]
                exc.pages = pages_done  # type: ignore[attr-defined]
                raise
        yield from items

    crew = _Crew("autotask-partition")
    stop = crew.stop
    try:
        # 1. First page and count together: two requests, one round trip.
        first_body = dict(body)
        if limit is not None and limit < page_size:
            first_body["MaxRecords"] = max(1, limit)
        count_future: Future[int] = crew.submit(lambda: fetcher.count(entity, user_filter))
        try:
            first = fetcher.fetch_page(entity, first_body, None)
        except BaseException:
            count_future.cancel()
            raise  # nothing fetched: the user's error as it is
        try:
            total = crew.result(count_future)
        except Exception as exc:
            # The count only shapes the partitions; without it the pull continues sequentially.
            logger.debug("count failed (%s); continuing sequentially", type(exc).__name__)
            total = None
        yield from emit(first.items)
        if first.next_url is None or (limit is not None and records_done >= limit):
            return

        raw_ids = [rec.get("id") for rec in first.items]
        ids = [i for i in raw_ids if isinstance(i, int)]
        ordered = len(ids) == len(raw_ids) and all(a < b for a, b in itertools.pairwise(ids))
        parts = (
            plan_partitions(ids, total, max_partitions=max_in_flight, limit=limit, page_size=page_size)
            if (ordered and total is not None)
            else []
        )
        if not parts:
            # Small remainder, unknown count or pages not in id order: follow nextPageUrl as usual.
            if not ordered:
                logger.debug("first page is not in id order; continuing sequentially")
            yield from _sequential_tail(
                fetcher, entity, body, first.next_url, emit, limit, lambda: records_done, yielded, lambda: pages_done
            )
            return

        logger.debug("%s: %s records, %d partitions: %s", entity, total, len(parts), [(p.lo, p.hi) for p in parts])
        first_count = len(first.items)
        workers = [_Worker(p) for p in parts]
        errors: list[BaseException] = []

        def budget(w: _Worker) -> int | None:
            # Records this partition may still need: the limit minus what earlier partitions already have
            # (they only grow, so once a partition has enough it never needs more).
            if limit is None:
                return None
            before = first_count + sum(x.fetched for x in workers[: w.part.index])
            return limit - before

        def run(w: _Worker) -> None:
            pbody = dict(body)
            pbody["filter"] = w.part.filter(user_filter)
            url: str | None = None
            try:
                while not stop.is_set():
                    page = fetcher.fetch_page(entity, pbody, url)
                    w.fetched += page.size
                    w.pages.put(page)
                    url = page.next_url
                    if url is None:
                        break
                    if limit is not None and w.fetched >= w.part.expected:
                        # Enough if the earlier partitions held what the plan expected; wait for them to
                        # finish rather than fetch a page that the limit may cut off.
                        for earlier in workers[: w.part.index]:
                            while not earlier.done.wait(_POLL_SECONDS):
                                if stop.is_set():
                                    return
                        need = budget(w)
                        if need is not None and w.fetched >= need:
                            break
            except BaseException as exc:  # handed to the consumer's thread
                errors.append(exc)
                stop.set()
            finally:
                w.done.set()
                w.pages.put(None)

        for w in workers:
            w.started_at = time.monotonic()
            w.thread = crew.start(functools.partial(run, w))

        def parse_ahead(w: _Worker) -> bool:
            # While the current partition's next page is in flight, parse a page a later partition has
            # already delivered, so they are not all left to parse once the last round is in.
            for later in workers[w.part.index + 1 :]:
                try:
                    page = later.pages.get_nowait()
                except queue.Empty:
                    continue
                later.buffered.append(page)
                if page is not None and page.raw is not None:
                    try:
                        page.items  # noqa: B018 - parses now, off the consumer's critical path
                    except (ValueError, AutotaskError):
                        pass  # raised again when this page's turn comes
                return True
            return False

        def next_page(w: _Worker) -> Page | None:
            """The partition's next page in order (None: it has ended)."""
            while True:
                if w.buffered:
                    return w.buffered.pop(0)
                try:
                    return w.pages.get_nowait()
                except queue.Empty:
                    pass
                if not errors and parse_ahead(w):
                    continue
                try:
                    page = w.pages.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    if w.lost() and w.pages.empty():
                        errors.append(
                            ServerError("a partition thread stopped without a result", hint="run the query again")
                        )
                        stop.set()
                        return None
                    continue
                if page is not None and page.raw is not None:
                    # It has just arrived: its partition sends the next request now, and parsing
                    # (json.loads holds the GIL) would delay that; yield the GIL for a moment first.
                    time.sleep(_HANDOFF_SLEEP)
                return page

        held: list[Page] = []  # pages taken after a failure, for IncompletePullError
        for w in workers:
            while True:
                page = next_page(w)
                if page is None:
                    break
                if errors:
                    held.append(page)  # kept for the error; next_page still drains the partition
                    continue
                try:
                    items = page.items
                except (ValueError, AutotaskError) as exc:
                    errors.append(_as_error(exc))
                    stop.set()
                    continue
                yield from emit(items)
                if limit is not None and records_done >= limit:
                    return
            if errors:
                break
        if errors:
            crew.close(_JOIN_SECONDS)
            fetched = list(yielded)
            pages = pages_done
            for page in held:
                try:
                    fetched.extend(page.items)
                except (ValueError, AutotaskError):
                    continue
                pages += 1
            for w in workers:
                while True:
                    try:
                        page = w.pages.get_nowait()
                    except queue.Empty:
                        break
                    if page is not None:
                        w.buffered.append(page)
                for page in w.buffered:
                    if page is None:
                        continue
                    try:
                        fetched.extend(page.items)
                    except (ValueError, AutotaskError):
                        continue
                    pages += 1
            fetched.sort(key=lambda r: r.get("id", 0))
            if not isinstance(errors[0], AutotaskError):
                raise errors[0]
            raise _incomplete(
                entity, fetched, pages, errors[0], total=len(fetched) + (0 if keep_records else records_done)
            ) from errors[0]
    finally:
        # On any exit (Ctrl-C included): workers stop after the request they are in, and are joined.
        crew.close(_JOIN_SECONDS)


def _sequential_tail(
    fetcher: PageFetcher,
    entity: str,
    body: dict[str, Any],
    url: str | None,
    emit: Callable[[list[dict[str, Any]]], Iterator[dict[str, Any]]],
    limit: int | None,
    done: Callable[[], int],
    yielded: list[dict[str, Any]],
    pages: Callable[[], int],
) -> Iterator[dict[str, Any]]:
    while url is not None:
        if limit is not None and done() >= limit:
            return
        try:
            page = fetcher.fetch_page(entity, body, url)
            items = page.items
        except (ValueError, AutotaskError) as exc:
            err = _as_error(exc)
            raise _incomplete(entity, list(yielded), pages(), err, total=done()) from err
        yield from emit(items)
        url = page.next_url


def _as_error(exc: BaseException) -> BaseException:
    if isinstance(exc, ValueError) and not isinstance(exc, AutotaskError):
        return ServerError(f"a page is not valid JSON ({type(exc).__name__})", hint="run the query again")
    return exc


def _incomplete(
    entity: str, records: list[dict[str, Any]], pages: int, cause: BaseException, total: int | None = None
) -> IncompletePullError:
    if isinstance(cause, IncompletePullError):
        return cause
    total = len(records) if total is None else total
    err = IncompletePullError(
        f"parallel pull of {entity} stopped after {pages} page(s) and {total} record(s): {cause}",
        status=getattr(cause, "status", None),
        request=getattr(cause, "request", None),
        hint="the records fetched so far are in err.records (in id order); run the query again to get the rest",
    )
    err.records = records
    err.pages = pages
    err.cause = cause
    return err
