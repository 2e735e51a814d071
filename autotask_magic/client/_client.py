"""``AutotaskClient``: requests, paging, counts, metadata and DataFrames over one credential manager."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx

from .. import _redact
from .._exceptions import AutotaskError, ConfigurationError, ServerError
from ..entities import MAX_PAGE_SIZE
from ._answers import network_error, result_of, waited_to_retry
from ._body import BoundedTransport, check_max_response_bytes
from ._credentials import Credentials, read_env
from ._errors import missing_item
from ._limited import LimitedTransport
from ._limits import DEFAULT_MAX_RESPONSE_BYTES
from ._manager import CredentialManager, ManagerConfig
from ._offthread import request_off_main
from ._paging import Page, PageInfo, iter_records, scan_page
from ._published import check_published
from ._query_body import ALL_ROWS, query_body
from ._retry import RetryPolicy, is_read_only, is_retryable_exception, may_have_reached_server
from ._settings import Settings, check_under_root
from ._urls import check_next, relative, resolve

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ..entities._metadata import EntityFields

__all__ = ["ALL_ROWS", "AutotaskClient", "query_body"]

log = _redact.get_logger("autotask_magic.http")


class AutotaskClient:
    """A synchronous Autotask REST client (no IPython needed).

    >>> with AutotaskClient.from_env() as client:
    ...     n = client.count("Tickets")
    """

    #: Seconds names fetched for ``expand=`` are reused (``_expand``).
    expand_ttl: float = 300.0

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        zone_url: str | None = None,
        ca_bundle: str | None = None,
        allowed_hosts: Sequence[str] = (),
        timeout: float = 30.0,
        manager: CredentialManager | None = None,
        label: str | None = None,
        transport: httpx.BaseTransport | None = None,
        page_size: int = MAX_PAGE_SIZE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.page_size = page_size  # validated by the property setter before anything is built
        check_max_response_bytes(max_response_bytes)
        if manager is None:
            if credentials is None:
                raise ConfigurationError(
                    "no credentials given", hint="pass OAuthCredentials/ApiUserCredentials or use from_env()"
                )
            config = ManagerConfig(
                base_url=base_url,
                token_url=token_url,
                zone_url=zone_url,
                ca_bundle=ca_bundle,
                allowed_hosts=tuple(allowed_hosts),
                label=label,
                timeout=timeout,
                max_response_bytes=max_response_bytes,
            )
            manager = CredentialManager(credentials, config, transport=transport)
            self._owns_manager = True
        else:
            self._owns_manager = False
        self.manager = manager
        self.timeout = timeout
        self.retry = RetryPolicy()
        inner = transport or httpx.HTTPTransport(verify=manager.ssl_context)
        self._bounded = BoundedTransport(inner, max_response_bytes)
        self._http = httpx.Client(
            transport=LimitedTransport(self._bounded, manager.limits),
            auth=manager.auth,
            timeout=timeout,
            follow_redirects=False,  # a redirect could carry credentials elsewhere
            trust_env=False,
        )
        self._fields: dict[str, EntityFields] = {}
        self._fields_lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_env(
        cls, env: Mapping[str, Any] | None = None, *, mode: str | None = None, **kwargs: Any
    ) -> AutotaskClient:
        """Build a client from ``AUTOTASK_*`` variables; raises ConfigurationError naming what is wrong.

        ``mode`` (``"oauth"`` or ``"api_user"``; else ``AUTOTASK_MODE``) chooses when both credential sets are set.
        """
        env = None if env is None else read_env(env)  # no plain secret in this frame's locals
        s = Settings.from_env(env, mode=mode)
        return cls(
            s.credentials,
            base_url=s.base_url,
            token_url=s.token_url,
            zone_url=s.zone_url,
            ca_bundle=s.ca_bundle,
            **{"allowed_hosts": s.allowed_hosts, **kwargs},
        )

    def __repr__(self) -> str:
        return f"<AutotaskClient mode={self.manager.mode} identity={self.manager.status().identity!r}>"

    def __enter__(self) -> AutotaskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections (and the manager, if this client created it)."""
        if self._closed:
            return
        self._closed = True
        self._http.close()
        if self._owns_manager:
            self.manager.close()

    @property
    def page_size(self) -> int:
        """Records asked for per query page (``MaxRecords``), 1-500; the last page may be shorter."""
        return self._page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
            raise ConfigurationError(
                f"page_size must be an integer from 1 to {MAX_PAGE_SIZE} (the API's limit), got {value!r}"
            )
        self._page_size = value

    @property
    def max_response_bytes(self) -> int:
        """The largest answer body accepted (decoded bytes); a larger one fails in one line."""
        return self._bounded.max_bytes

    @max_response_bytes.setter
    def max_response_bytes(self, value: int) -> None:
        self._bounded.max_bytes = check_max_response_bytes(value)

    @property
    def timeout(self) -> float:
        """Seconds for each whole API request (a wall-clock deadline); setting it applies to the next request."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {value!r}")
        self._timeout = float(value)
        http = self.__dict__.get("_http")
        if http is not None:
            http.timeout = httpx.Timeout(self._timeout)

    @property
    def base_url(self) -> str:
        """The API root ending with ``/V1.0/`` (zone discovery happens here on first use)."""
        return self.manager.api_base_url()

    # ------------------------------------------------------------------ URLs

    def _url(self, path: str) -> str:
        """The absolute URL for ``path``, refused when it would leave the API root (``_urls.resolve``)."""
        return resolve(path, self.base_url)

    def _relative(self, url: str) -> str:
        return relative(url, self.base_url)

    # ------------------------------------------------------------------ requests

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError("the client is closed", hint="create a new AutotaskClient")

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        counter: list[int] | None = None,
    ) -> httpx.Response:
        """Send with the retry policy; returns a response of any status except retried ones."""
        self._check_open()
        # Every URL that goes out with credentials, nextPageUrl included, must lie under the API root.
        check_under_root(url, self.base_url)
        method = method.upper()
        rel = self._relative(url)
        label = f"{method} /{rel}"
        read_only = is_read_only(method, rel)
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            if counter is not None:
                counter[0] += 1
            started = time.monotonic()
            failure: AutotaskError | None = None
            try:
                response = self._request(method, url, json=json, params=params)
            except httpx.HTTPError as exc:
                log.debug("%s -> %s (attempt %d)", label, type(exc).__name__, attempt)
                reached = may_have_reached_server(exc)
                if is_retryable_exception(exc) and attempt < policy.attempts and (read_only or not reached):
                    policy.sleep(policy.backoff(attempt))
                    continue
                failure = network_error(exc, method, label, attempt, outcome_unknown=reached and not read_only)
            if failure is not None:
                # Raised outside the except block: the httpx error (it may quote a header value) is no __context__.
                raise failure
            ms = (time.monotonic() - started) * 1000
            log.debug("%s -> %d (%.0f ms, attempt %d)", label, response.status_code, ms, attempt)
            gate = self.manager.limits.gate
            if not waited_to_retry(response, method, label, attempt, read_only, policy=policy, gate=gate):
                return response

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One httpx request, sent off the main thread so Ctrl-C never lands inside httpcore (``_offthread``)."""
        return request_off_main(self._http, method, url, **kw)

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request (path relative to the API root) and return the parsed JSON.

        A request the published API does not offer (``POST /Tasks``: Tasks are created under
        ``POST /Projects/{id}/Tasks``) is refused first, naming the right path (``_published``).
        """
        if isinstance(path, str) and "://" not in path:
            check_published(method, path)  # before _url: zone discovery is a request too
        url = self._url(path)
        if "://" in path:
            check_published(method, self._relative(url))
        response = self._send(method, url, json=json, params=params)
        label = f"{method.upper()} /{self._relative(url)}"
        result = result_of(response, label)
        if method.upper() == "GET" and isinstance(result, dict) and "item" in result and result["item"] is None:
            raise missing_item(label)
        return result

    # ------------------------------------------------------------------ queries

    def records(
        self,
        entity: str,
        filter: Sequence[dict[str, Any]] | None = None,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        *,
        on_page: Callable[[PageInfo], None] | None = None,
        parallel: bool = False,
        _counter: list[int] | None = None,
        _keep: bool = True,
        _total: bool | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a query, following every page; stops at ``limit`` without extra pages.

        With ``on_page``, a pull that needs a second page also sends one ``query/count`` (with that page)
        so progress has a total; ``_total`` overrides whether it is sent.
        """
        if limit is not None and limit <= 0:
            return iter(())
        body = query_body(filter, fields, limit, self.page_size, parallel=parallel)
        entity = entity.strip("/")
        check_published("POST", f"{entity}/query")
        first_url = self._url(f"{entity}/query")
        counter = _counter if _counter is not None else [0]
        pages = _QueryPages(self, counter)
        if parallel:
            from ._parallel import parallel_records

            return parallel_records(
                pages, entity, body, limit=limit, on_page=on_page, page_size=self.page_size, keep_records=_keep
            )

        def fetch(url: str) -> Page:
            return self._fetch_page(url, body, counter)

        def count() -> int:  # progress's total, sent with the second page (see iter_records)
            return pages.count(entity, filter)

        return iter_records(
            lambda: fetch(first_url),
            fetch,
            entity=entity,
            limit=limit,
            on_page=on_page,
            check_next=self._check_next,
            request=f"POST /{entity}/query",
            keep_records=_keep,
            count=count if (on_page is not None if _total is None else _total) else None,
        )

    def _fetch_page(self, url: str, body: dict[str, Any], counter: list[int]) -> Page:
        """POST one query page (the first, or ``nextPageUrl`` with the same body).

        ``nextPageUrl`` is read from the bytes (:func:`scan_page`) so the pager sends the next request
        before this page is parsed; an answer without it is parsed here.
        """
        response = self._send("POST", url, json=body, counter=counter)
        if 200 <= response.status_code < 300:
            page = scan_page(response.content)
            if page is not None:
                return page
        return Page.from_json(result_of(response, f"POST /{self._relative(url)}"))

    def _check_next(self, url: str) -> None:
        """Refuse a ``nextPageUrl`` outside the API root before sending anything (``_urls.check_next``)."""
        check_next(url, self.base_url)

    def count(self, entity: str, filter: Sequence[dict[str, Any]] | None = None) -> int:
        """Number of records matching ``filter`` (all rows without one)."""
        body = {"filter": list(filter) if filter else [dict(x) for x in ALL_ROWS]}
        data = self.request("POST", f"{entity.strip('/')}/query/count", json=body)
        try:
            return int(data["queryCount"])
        except (TypeError, KeyError, ValueError):
            raise ServerError(
                "query/count answered without queryCount", request=f"POST /{entity}/query/count"
            ) from None

    def fields(self, entity: str) -> EntityFields:
        """Field metadata for ``entity`` (``entityInformation/fields`` + ``userDefinedFields``), cached."""
        from ..entities._metadata import EntityFields

        key = entity.lower()
        with self._fields_lock:
            cached = self._fields.get(key)
        if cached is not None:
            return cached
        # The two metadata calls go out together: a cold pull waits one round trip for them, not two.
        self.base_url  # noqa: B018 - zone discovery (API-user mode) first, once, not in both threads
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autotask-metadata") as pool:
            udf_future = pool.submit(self.request, "GET", f"{entity}/entityInformation/userDefinedFields")
            fields_json = self.request("GET", f"{entity}/entityInformation/fields")
            udf_json = udf_future.result()
        result = EntityFields.from_api(entity, fields_json, udf_json)
        with self._fields_lock:
            self._fields[key] = result
        return result

    def query(
        self,
        entity: str,
        where: str | None = None,
        *,
        filter: Sequence[dict[str, Any]] | None = None,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        labels: bool = False,
        params: Mapping[str, Any] | None = None,
        tz: str = "UTC",
        parallel: bool = False,
        on_page: Callable[[PageInfo], None] | None = None,
        expand: Sequence[str] | str | None = None,
        resume: bool = False,
        _key: str | None = None,
    ) -> pandas.DataFrame:
        """Run a query and return a DataFrame (the Python mirror of ``%%autotask query``).

        The DataFrame is built while the pull runs, every :data:`~._pull.QUERY_CHUNK_PAGES` pages, so the
        record dicts of a big pull never all exist at once. If the pull stops (``IncompletePullError``,
        or ``KeyboardInterrupt``), the exception carries everything fetched: ``.frame``, a DataFrame of
        every record fetched (``attrs["autotask"]["partial"]`` is True), and ``.records``, the raw
        records not yet converted when it stopped (every record fetched when that was within the first
        chunk); ``.pages`` as usual. ``resume=True`` then continues the same query from the last id
        fetched and returns the whole frame (``_resume``).

        ``where`` may use relative dates (``createDate >= today - 30d``), resolved now in ``tz``.
        ``expand=["companyID", "assignedResourceID"]`` adds ``<field>_name`` columns (``_expand``).
        """
        from ._run import run_query

        return run_query(
            self,
            entity,
            where,
            filter=filter,
            fields=fields,
            limit=limit,
            labels=labels,
            params=params,
            tz=tz,
            parallel=parallel,
            on_page=on_page,
            expand=expand,
            resume=resume,
            key=_key,
        )

    def refresh(self, df: pandas.DataFrame, *, fallback: bool = True, margin: float | None = None) -> pandas.DataFrame:
        """``df`` (from :meth:`query`) brought up to date with requests proportional to what changed (``_refresh``)."""
        from ._refresh import refresh_frame

        return refresh_frame(self, df, fallback=fallback, margin=margin)

    # ------------------------------------------------------------------ writes from a DataFrame

    def update(self, entity: str, frame: Any, **options: Any) -> pandas.DataFrame:
        """PATCH one record per row (``id`` + columns to change); the outcome frame, or the diff (``_writes``)."""
        from ._writes import run_writes

        return run_writes(self, "update", entity, frame, **options)

    def create(self, entity: str, frame: Any, **options: Any) -> pandas.DataFrame:
        """POST one record per row (children through their parent's path); the outcome frame (``_writes``)."""
        from ._writes import run_writes

        return run_writes(self, "create", entity, frame, **options)

    def delete(self, entity: str, ids: Any, **options: Any) -> pandas.DataFrame:
        """DELETE the records with ``ids`` (a list, Series or a frame with ``id``), where the API allows it."""
        from ._writes import run_writes

        return run_writes(self, "delete", entity, ids, **options)


class _QueryPages:
    """The client as a partitioned pull's page source (:class:`~._parallel.PageFetcher`)."""

    def __init__(self, client: AutotaskClient, counter: list[int]) -> None:
        self._client = client
        self._counter = counter

    def fetch_page(self, entity: str, body: dict[str, Any], next_url: str | None) -> Page:
        """POST ``{entity}/query`` or ``next_url``; each partition sends its own body (filter AND id range)."""
        if next_url:
            self._client._check_next(next_url)
        url = next_url or self._client._url(f"{entity}/query")
        return self._client._fetch_page(url, body, self._counter)

    def count(self, entity: str, filter: Sequence[dict[str, Any]] | None) -> int:
        """``query/count``, counted as one request of the pull."""
        self._counter[0] += 1
        return self._client.count(entity, filter)
