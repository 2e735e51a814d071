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
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from .._exceptions import AutotaskError, IncompletePullError, ServerError
from ..entities import MAX_PAGE_SIZE
from ._crew import POLL_SECONDS, Crew, thread_may_deliver
from ._paging import Page, PageInfo, incomplete, page_error

__all__ = [
    "MAX_IN_FLIGHT",
    "MIN_PARALLEL_PAGES",
    "PageFetcher",
    "Partition",
    "parallel_records",
    "plan_partitions",
]

logger = logging.getLogger("autotask_magic.parallel")

#: Autotask's limit: concurrent requests per endpoint per integration.
MAX_IN_FLIGHT = 3
#: Below this many pages left after the first page, partitioning cannot pay for its extra requests and
#: the pull continues sequentially (follows the first page's ``nextPageUrl``).
MIN_PARALLEL_PAGES = 3

# How long the consumer yields the GIL to a partition that has just handed over a page (seconds).
_HANDOFF_SLEEP = 0.001
# How long a pull that ends waits for its partition threads (one request each at most).
_JOIN_SECONDS = 60.0
# Safety margin of the partition boundaries, in standard deviations of their estimate.
_MARGIN_K = 0.5


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
    page_size: int = MAX_PAGE_SIZE,
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
        return not thread_may_deliver(*self.thread, self.started_at)

    def drain(self) -> list[Page]:
        """Every page delivered and not yet yielded (after the pull has stopped)."""
        while True:
            try:
                self.buffered.append(self.pages.get_nowait())
            except queue.Empty:
                break
        return [page for page in self.buffered if page is not None]


def parallel_records(
    fetcher: PageFetcher,
    entity: str,
    body: dict[str, Any],
    *,
    limit: int | None = None,
    on_page: Callable[[PageInfo], None] | None = None,
    max_in_flight: int = MAX_IN_FLIGHT,
    page_size: int = MAX_PAGE_SIZE,
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
    pull = _ParallelPull(fetcher, entity, body, limit, on_page, max_in_flight, page_size, keep_records)
    yield from pull.run()


class _ParallelPull:
    """One partitioned pull: the first page and count, then partitions consumed in order on the caller's thread."""

    def __init__(
        self,
        fetcher: PageFetcher,
        entity: str,
        body: dict[str, Any],
        limit: int | None,
        on_page: Callable[[PageInfo], None] | None,
        max_in_flight: int,
        page_size: int,
        keep_records: bool,
    ) -> None:
        self.fetcher = fetcher
        self.entity = entity
        self.body = body
        self.limit = limit
        self.on_page = on_page
        self.max_in_flight = max(1, min(int(max_in_flight), MAX_IN_FLIGHT))
        self.page_size = page_size
        self.keep_records = keep_records
        self.user_filter: list[dict[str, Any]] = list(body["filter"])
        self.pages_done = 0
        self.records_done = 0
        # Everything fetched, for IncompletePullError: the yielded records plus what is still buffered.
        self.yielded: list[dict[str, Any]] = []
        self.total: int | None = None
        self.crew = Crew("autotask-partition")
        self.stop = self.crew.stop
        self.first_count = 0
        self.workers: list[_Worker] = []
        self.errors: list[BaseException] = []  # failures of partition threads, handed to the consumer
        self.held: list[Page] = []  # pages taken after a failure, for IncompletePullError

    def limit_reached(self) -> bool:
        return self.limit is not None and self.records_done >= self.limit

    def progress_total(self, last: bool) -> int | None:
        """The total progress shows: the count capped by the limit, never below what arrived; the last
        report says what was fetched (the count may differ when records change during the pull)."""
        if last or self.total is None:
            return self.records_done if last else None
        total = self.total if self.limit is None else min(self.total, self.limit)
        return max(total, self.records_done)

    def emit(self, items: list[dict[str, Any]], last: bool = False) -> Iterator[dict[str, Any]]:
        """Count one page, cut it at the limit, report progress, and yield its records."""
        self.pages_done += 1
        if self.limit is not None:
            items = items[: max(0, self.limit - self.records_done)]
        self.records_done += len(items)
        if self.keep_records:
            self.yielded.extend(items)
        if self.on_page is not None:
            try:
                done = last or self.limit_reached()
                self.on_page(PageInfo(self.pages_done, self.records_done, self.progress_total(done)))
            except KeyboardInterrupt as exc:
                # Ctrl-C in a progress callback: this page was fetched but not yet yielded; hand it over.
                exc.records = list(self.yielded) if self.keep_records else list(items)  # type: ignore[attr-defined]
                exc.pages = self.pages_done  # type: ignore[attr-defined]
                raise
        yield from items

    def run(self) -> Iterator[dict[str, Any]]:
        try:
            first = self.first_page()
            yield from self.emit(first.items, last=first.next_url is None)
            if first.next_url is None or self.limit_reached():
                return
            parts = self.plan(first)
            if not parts:
                # Small remainder, unknown count or pages not in id order: follow nextPageUrl as usual.
                yield from self.sequential_tail(first.next_url)
                return
            logger.debug(
                "%s: %s records, %d partitions: %s", self.entity, self.total, len(parts), [(p.lo, p.hi) for p in parts]
            )
            self.first_count = len(first.items)
            self.workers = [_Worker(p) for p in parts]
            for w in self.workers:
                w.started_at = time.monotonic()
                w.thread = self.crew.start(functools.partial(self.partition, w))
            yield from self.consume()
            # consume() returns at the limit (the pull is complete) or at the first failure.
            if self.errors and not self.limit_reached():
                self.fail()
        finally:
            # On any exit (Ctrl-C included): workers stop after the request they are in, and are joined.
            self.crew.close(_JOIN_SECONDS)

    def first_page(self) -> Page:
        """The first page and ``query/count`` together: two requests, one round trip."""
        first_body = dict(self.body)
        if self.limit is not None and self.limit < self.page_size:
            first_body["MaxRecords"] = max(1, self.limit)
        count_future: Future[int] = self.crew.submit(lambda: self.fetcher.count(self.entity, self.user_filter))
        try:
            first = self.fetcher.fetch_page(self.entity, first_body, None)
        except BaseException:
            count_future.cancel()
            raise  # nothing fetched: the user's error as it is
        try:
            self.total = self.crew.result(count_future)
        except Exception as exc:
            # The count only shapes the partitions; without it the pull continues sequentially.
            logger.debug("count failed (%s); continuing sequentially", type(exc).__name__)
            self.total = None
        return first

    def plan(self, first: Page) -> list[Partition]:
        raw_ids = [rec.get("id") for rec in first.items]
        ids = [i for i in raw_ids if isinstance(i, int)]
        ordered = len(ids) == len(raw_ids) and all(a < b for a, b in itertools.pairwise(ids))
        if not ordered:
            logger.debug("first page is not in id order; continuing sequentially")
        if not ordered or self.total is None:
            return []
        return plan_partitions(
            ids, self.total, max_partitions=self.max_in_flight, limit=self.limit, page_size=self.page_size
        )

    def sequential_tail(self, url: str | None) -> Iterator[dict[str, Any]]:
        while url is not None:
            if self.limit_reached():
                return
            try:
                page = self.fetcher.fetch_page(self.entity, self.body, url)
                items = page.items
            except (ValueError, AutotaskError) as exc:
                err = page_error(exc)
                raise self.incomplete(list(self.yielded), self.pages_done, err, self.records_done) from err
            yield from self.emit(items, last=page.next_url is None)
            url = page.next_url

    def incomplete(
        self, records: list[dict[str, Any]], pages: int, cause: BaseException, total: int
    ) -> IncompletePullError:
        return incomplete(self.entity, records, pages, cause, total=total, parallel=True)

    # ------------------------------------------------------------------ partition threads

    def budget(self, w: _Worker) -> int | None:
        """Records this partition may still need: the limit minus what earlier partitions already have.

        They only grow, so once a partition has enough it never needs more.
        """
        if self.limit is None:
            return None
        return self.limit - (self.first_count + sum(x.fetched for x in self.workers[: w.part.index]))

    def partition(self, w: _Worker) -> None:
        """A partition thread: page sequentially through its id range, handing each page to the consumer."""
        pbody = dict(self.body)
        pbody["filter"] = w.part.filter(self.user_filter)
        url: str | None = None
        try:
            while not self.stop.is_set():
                page = self.fetcher.fetch_page(self.entity, pbody, url)
                w.fetched += page.size
                w.pages.put(page)
                url = page.next_url
                if url is None or (self.limit is not None and w.fetched >= w.part.expected and self.has_enough(w)):
                    break
        except BaseException as exc:  # handed to the consumer's thread
            self.errors.append(exc)
            self.stop.set()
        finally:
            w.done.set()
            w.pages.put(None)

    def has_enough(self, w: _Worker) -> bool:
        """Whether ``w`` can stop at the limit (waits for the earlier partitions to finish first)."""
        # Enough if the earlier partitions held what the plan expected; wait for them to finish rather
        # than fetch a page that the limit may cut off.
        for earlier in self.workers[: w.part.index]:
            while not earlier.done.wait(POLL_SECONDS):
                if self.stop.is_set():
                    return True
        need = self.budget(w)
        return need is not None and w.fetched >= need

    # ------------------------------------------------------------------ the consumer (caller's thread)

    def consume(self) -> Iterator[dict[str, Any]]:
        """Yield every partition's pages in partition order; stops at the limit or the first failure."""
        for w in self.workers:
            while (page := self.next_page(w)) is not None:
                if self.errors:
                    self.held.append(page)  # kept for the error; next_page still drains the partition
                    continue
                try:
                    items = page.items
                except (ValueError, AutotaskError) as exc:
                    self.errors.append(page_error(exc))
                    self.stop.set()
                    continue
                yield from self.emit(items)
                if self.limit_reached():
                    return
            if self.errors:
                return

    def next_page(self, w: _Worker) -> Page | None:
        """The partition's next page in order (None: it has ended)."""
        while True:
            if w.buffered:
                return w.buffered.pop(0)
            try:
                return w.pages.get_nowait()
            except queue.Empty:
                pass
            if not self.errors and self.parse_ahead(w):
                continue
            try:
                page = w.pages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if w.lost() and w.pages.empty():
                    self.errors.append(
                        ServerError("a partition thread stopped without a result", hint="run the query again")
                    )
                    self.stop.set()
                    return None
                continue
            if page is not None and page.raw is not None:
                # It has just arrived: its partition sends the next request now, and parsing
                # (json.loads holds the GIL) would delay that; yield the GIL for a moment first.
                time.sleep(_HANDOFF_SLEEP)
            return page

    def parse_ahead(self, w: _Worker) -> bool:
        """While ``w``'s next page is in flight, parse a page a later partition has already delivered.

        So they are not all left to parse once the last round is in.
        """
        for later in self.workers[w.part.index + 1 :]:
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

    def fail(self) -> None:
        """Stop the partitions and raise the first failure with every record fetched, in id order."""
        self.crew.close(_JOIN_SECONDS)
        fetched = list(self.yielded)
        pages = self.pages_done
        for page in self.held + [p for w in self.workers for p in w.drain()]:
            try:
                fetched.extend(page.items)
            except (ValueError, AutotaskError):
                continue
            pages += 1
        fetched.sort(key=lambda r: r.get("id", 0))
        cause = self.errors[0]
        if not isinstance(cause, AutotaskError):
            raise cause
        total = len(fetched) + (0 if self.keep_records else self.records_done)
        err = self.incomplete(fetched, pages, cause, total)
        # What was fetched is not one id range; each partition's own range lets a resume go on from each.
        err.partitions = [(w.part.lo, w.part.hi) for w in self.workers]  # type: ignore[attr-defined]
        raise err from cause
