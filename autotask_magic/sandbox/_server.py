"""The HTTP side: a stdlib ThreadingHTTPServer (HTTP/1.1 keep-alive) speaking the Autotask REST shapes.

Each connection gets its own daemon thread; shared state is touched only under short locks, and
latency injection sleeps outside every lock, so concurrent requests overlap for real.

Latency (``faults.latency_ms`` + jitter, ``--latency``) is a *floor* on each request's server time,
like a real tenant's response time, which includes its own processing: the response goes out
``max(latency, processing)`` after the request arrived (the handler sleeps only for what is left
after filtering and serialising the page). So ``latency_ms=200`` answers a 500-record page in 200 ms,
not 200 ms plus the sandbox's own 10-20 ms. The request counts as in flight for all of it.
"""

from __future__ import annotations

import bisect
import json
import random
import socket
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ._filters import FilterError, coerce, compile_filter, match_ids, normalize_date, parse_query, project
from ._schema import SCHEMAS, EntitySpec, lookup_entity
from ._state import SlidingWindow, retry_after_header

if TYPE_CHECKING:
    from ._sandbox import Sandbox

__all__ = ["Handler", "SandboxHTTPServer"]

_dumps = json.JSONEncoder(check_circular=False, separators=(",", ":"), ensure_ascii=False).encode
_CURSOR_CACHE = 32


class Reply(Exception):
    """Raised anywhere in request handling to answer immediately."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _errors(status: int, *messages: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"errors": list(messages)}, headers)


class SandboxHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying a reference to its Sandbox (state, faults, stats)."""

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, sandbox: Sandbox, port: int) -> None:
        self.sandbox = sandbox
        self.windows = SlidingWindow()
        self.rng = random.Random(sandbox.seed)
        self.rng_lock = threading.Lock()
        self.cursors: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self.cursor_lock = threading.Lock()
        self.write_lock = threading.Lock()
        # Live connections: shutdown() only stops accepting, so stop() closes these itself, or a
        # keep-alive client would go on being answered by its connection's thread.
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.closing = False
        super().__init__(("127.0.0.1", port), Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection: no Nagle, TLS when configured, tracked so ``close_connections`` can end it."""
        sock, addr = super().get_request()
        # Headers and body go out in one write, but disable Nagle anyway: small replies must not wait.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ctx = self.sandbox.ssl_context
        if ctx is not None:
            # Handshake lazily in the connection's own thread, never in the accept loop.
            sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.connections_lock:
            self.connections.add(sock)
            closing = self.closing
        if closing:  # accepted in the last poll before shutdown: never serve it
            self._hang_up(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        """Forget a finished connection, then close it."""
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> int:
        """Hang up every live connection (after ``shutdown()``); returns how many were open."""
        with self.connections_lock:
            self.closing = True
            live, self.connections = list(self.connections), set()
        for sock in live:
            self._hang_up(sock)
        return len(live)

    @staticmethod
    def _hang_up(sock: socket.socket) -> None:
        # shutdown() wakes a handler thread blocked reading the next keep-alive request (close()
        # alone would not); the thread then sees EOF and ends.
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore errors from clients that hang up mid-request."""
        # Clients that hang up mid-request (timeouts, dropped-connection tests) are normal here.

    def random(self) -> float:
        """A float in [0, 1) from the seeded generator (thread-safe)."""
        with self.rng_lock:
            return self.rng.random()

    def choice(self, seq: list[int]) -> int:
        """One element of ``seq`` from the seeded generator (thread-safe)."""
        with self.rng_lock:
            return self.rng.choice(seq)


class Handler(BaseHTTPRequestHandler):
    """One HTTP request; the do_* methods all funnel into ``_dispatch``."""

    protocol_version = "HTTP/1.1"
    server_version = "AutotaskSandbox/1.0"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""
        # quiet: benchmarks make hundreds of thousands of requests

    def do_GET(self) -> None:
        """Serve any method: GET, POST, PATCH, PUT and DELETE all dispatch here."""
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    # -- plumbing ----------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        data = raw if raw is not None else (b"" if body is None else _dumps(body).encode("utf-8"))
        self._await_latency()
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        lines = [f"HTTP/1.1 {status} {reason}", f"Server: {self.server_version}", f"Content-Length: {len(data)}"]
        if data:
            lines.append(f"Content-Type: {content_type}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if self.close_connection:
            lines.append("Connection: close")
        # The request stops counting against the endpoint's concurrency before its last byte goes out: a
        # client that has read the whole response may send its next request at once, and must not be
        # told it has too many in flight by a handler thread that has not yet run its ``finally``.
        self._release_slot()
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)

    def _read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _json_body(self, raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise _errors(400, "The request body is not valid JSON.") from None

    def _dispatch(self) -> None:
        sb = self.server.sandbox
        self._arrived = time.monotonic()
        self._deadline: float | None = None
        raw = self._read_body()
        url = urlsplit(self.path)
        path = unquote(url.path)
        low = path.lower()
        try:
            if low.rstrip("/") == "/atservicesrest/oauth/token":
                self._token(raw)
                return
            if low.startswith("/atservicesrest/v1.0/zoneinformation"):
                sb.stats.count_zone()
                self._zone(url.query)
                return
            if low.startswith("/atservicesrest/v1.0/"):
                self._api(path[len("/atservicesrest/v1.0/") :].strip("/"), url.query, raw)
                return
            raise _errors(404, f"No such resource: {url.path}")
        except Reply as r:
            if r.status == 429:
                sb.stats.count_429()
            self._send(r.status, r.body, r.headers)
        except _Drop:
            self.close_connection = True

    def _maybe_drop(self) -> None:
        f = self.server.sandbox.faults
        if f.drop_rate and self.server.random() < f.drop_rate:
            self.server.sandbox.stats.count_fault("drop")
            raise _Drop()

    def _latency(self) -> None:
        """Set this request's response time floor: arrival + latency (+ jitter); ``_send`` waits for it."""
        f = self.server.sandbox.faults
        ms = float(f.latency_ms or 0)
        if f.jitter_ms:
            ms += self.server.random() * float(f.jitter_ms)
        if ms > 0:
            self._deadline = self._arrived + ms / 1000.0

    def _await_latency(self) -> None:
        # Sleep only for the part of the latency the request's own processing has not used up.
        deadline, self._deadline = getattr(self, "_deadline", None), None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left > 0:
                time.sleep(left)

    # -- OAuth token endpoint -------------------------------------------------------------------
    def _token(self, raw: bytes) -> None:
        sb = self.server.sandbox
        f = sb.faults
        sb.stats.count_token()
        if self.command != "POST":
            raise _errors(405, "The token endpoint accepts POST only.", headers={"Allow": "POST"})
        self._maybe_drop()
        retry = f.take_burst(token=True)
        if retry is not None:
            sb.stats.count_fault("token_429")
            raise Reply(
                429,
                {"error": "rate_limit_exceeded", "error_description": "Too many token requests"},
                {"Retry-After": retry},
            )
        wait = self.server.windows.hit("token", int(f.token_rate_limit_per_minute), float(f.rate_window_seconds))
        if wait is not None:
            raise Reply(
                429,
                {
                    "error": "rate_limit_exceeded",
                    "error_description": "Token endpoint limit of "
                    f"{f.token_rate_limit_per_minute} requests a minute exceeded",
                },
                {"Retry-After": retry_after_header(wait)},
            )
        self._latency()
        if f.token_endpoint_fail_status:
            sb.stats.count_fault("token_fail")
            status = int(f.token_endpoint_fail_status)
            raise Reply(status, {"error": "server_error", "error_description": "Token service unavailable"})
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        if form.get("grant_type") != "client_credentials":
            raise Reply(
                400, {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}
            )
        cid, secret = form.get("client_id"), form.get("client_secret")
        if cid is None and (auth := self.headers.get("Authorization", "")).lower().startswith("basic "):
            import base64

            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                cid = None
        if cid != sb.client_id or secret != sb.client_secret:
            raise Reply(400, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        ttl = float(sb.token_ttl)
        token = sb._tokens.issue(cid, ttl)
        self._send(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": int(ttl) if ttl.is_integer() else ttl},
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    # -- zone discovery ---------------------------------------------------------------------------
    def _zone(self, query: str) -> None:
        sb = self.server.sandbox
        self._maybe_drop()
        self._latency()
        user = (parse_qs(query).get("user") or [""])[-1]
        if self.command != "GET":
            raise _errors(405, f"The requested resource does not support http method '{self.command}'.")
        if user.lower() != sb.username.lower():
            raise _errors(500, "Zone information could not be determined")
        self._send(
            200,
            {
                "zoneName": "Sandbox (127.0.0.1)",
                "url": sb.root_url + "/ATServicesRest/",
                "webUrl": sb.root_url + "/",
                "ci": 0,
            },
        )

    # -- the API ----------------------------------------------------------------------------------
    def _authenticate(self) -> tuple[str, str, str]:
        """Returns (mode, identity key, rate key) or raises a 401/500 Reply."""
        sb = self.server.sandbox
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
            problem = "The access token is invalid" if sb.faults.reject_all_tokens else sb._tokens.check(token)
            if sb.faults.reject_all_tokens:
                sb.stats.count_fault("reject_token")
            if problem:
                raise Reply(
                    401,
                    {"error": "invalid_token", "error_description": problem},
                    {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{problem}"'},
                )
            return "oauth", "oauth:" + sb.client_id, "token:" + token
        user = self.headers.get("UserName")
        if user is not None or self.headers.get("ApiIntegrationCode") is not None:
            ok = (
                user is not None
                and user.lower() == sb.username.lower()
                and self.headers.get("Secret") == sb.secret
                and self.headers.get("ApiIntegrationCode") == sb.integration_code
            )
            if sb.faults.reject_all_tokens:
                sb.stats.count_fault("reject_token")
                ok = False
            if not ok:
                raise _errors(401, "Authentication failed: check UserName, Secret and ApiIntegrationCode.")
            imp = self.headers.get("ImpersonationResourceId")
            if imp:
                try:
                    rid = int(imp)
                except ValueError:
                    rid = -1
                if rid not in sb.store["Resources"] or not sb.store["Resources"][rid].get("isActive"):
                    raise _errors(500, f"Impersonation resource {imp} does not exist or is inactive.")
            return "api_user", "user:" + sb.username.lower(), "user:" + sb.username.lower()
        raise Reply(
            401,
            {"error": "invalid_request", "error_description": "No credentials were sent"},
            {"WWW-Authenticate": "Bearer"},
        )

    def _api(self, rest: str, query: str, raw: bytes) -> None:
        sb = self.server.sandbox
        f = sb.faults
        parts = [p for p in rest.split("/") if p]
        endpoint = self.command + " /" + "/".join(_template(parts))
        sb.stats.count_api(endpoint)
        self._maybe_drop()
        if f.redirect_to:
            sb.stats.count_fault("redirect")
            raise Reply(302, None, {"Location": str(f.redirect_to)})
        mode, ident, rate_key = self._authenticate()
        retry = f.take_burst()
        if retry is not None:
            sb.stats.count_fault("burst_429")
            raise _errors(429, "Too many requests (injected burst).", headers={"Retry-After": retry})
        slot = ident + " " + endpoint
        if not sb.stats.enter(endpoint, slot, int(f.concurrency_per_endpoint)):
            raise _errors(
                429,
                f"Concurrent request limit of {f.concurrency_per_endpoint} for this endpoint exceeded.",
                headers={"Retry-After": "1"},
            )
        self._slot: tuple[str, str] | None = (endpoint, slot)
        try:
            window = float(f.rate_window_seconds)
            if mode == "oauth":
                wait = self.server.windows.hit(rate_key, int(f.rate_limit_per_minute), window)
                if wait is not None:
                    raise _errors(
                        429,
                        f"API limit of {f.rate_limit_per_minute} requests a minute per token exceeded.",
                        headers={"Retry-After": retry_after_header(wait)},
                    )
                self.server.windows.hit("db", 1 << 62, window * 60)
            else:
                wait = self.server.windows.hit("db", int(f.hourly_threshold), window * 60)
                if wait is not None:
                    raise _errors(
                        429,
                        f"The hourly request threshold of {f.hourly_threshold} for this database has been reached.",
                        headers={"Retry-After": retry_after_header(wait)},
                    )
            self._latency()
            if f.error_rate and self.server.random() < f.error_rate:
                status = self.server.choice([500, 502, 503])
                sb.stats.count_fault(f"error_{status}")
                if status == 500:
                    raise _errors(500, "An unexpected error occurred (injected).")
                raise Reply(status, None, {"Retry-After": "1"} if status == 503 else None)
            self._route(parts, query, raw)
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        """Stop counting this request as in flight (idempotent)."""
        held = getattr(self, "_slot", None)
        if held is not None:
            self._slot = None
            self.server.sandbox.stats.leave(*held)

    def _route(self, parts: list[str], query: str, raw: bytes) -> None:
        m = self.command
        if not parts:
            raise _errors(404, "No such resource.")
        if parts[0].lower() == "thresholdinformation" and len(parts) == 1:
            sb = self.server.sandbox
            if m != "GET":
                raise _not_allowed(m)
            self._send(
                200,
                {
                    "externalRequestThreshold": int(sb.faults.hourly_threshold),
                    "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": self.server.windows.count(
                        "db", float(sb.faults.rate_window_seconds) * 60
                    ),
                },
            )
            return
        entity = lookup_entity(parts[0])
        if entity is None:
            raise _errors(404, f"Entity '{parts[0]}' does not exist.")
        spec = SCHEMAS[entity]
        rest = [p.lower() for p in parts[1:]]
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if not rest:
            if m == "POST":
                self._create(spec, self._json_body(raw))
            elif m in ("PATCH", "PUT"):
                self._update(spec, self._json_body(raw), replace=m == "PUT")
            else:
                raise _not_allowed(m)
            return
        if rest[0] == "query":
            if rest[1:] == []:
                if m == "GET":
                    if "search" not in params:
                        raise _errors(500, "A query must have a search parameter with a filter.")
                    self._query(spec, _parse_search(params["search"]), None, "GET", params["search"])
                elif m == "POST":
                    self._query(spec, self._json_body(raw), None, "POST", None)
                else:
                    raise _not_allowed(m)
            elif rest[1:] == ["count"]:
                if m == "GET":
                    body = _parse_search(params.get("search", ""))
                elif m == "POST":
                    body = self._json_body(raw)
                else:
                    raise _not_allowed(m)
                ids = self._matching(spec, body)[0]
                self._send(200, {"queryCount": len(ids)})
            elif rest[1:] == ["next"]:
                paging = params.get("paging")
                if not paging:
                    raise _errors(500, "The paging parameter is missing.")
                if m == "GET":
                    if "search" not in params:
                        # A cursor minted by a POST query must be followed with POST and the same body.
                        raise _not_allowed("GET")
                    self._query(spec, _parse_search(params["search"]), paging, "GET", params["search"])
                elif m == "POST":
                    body = self._json_body(raw)
                    if body is None and "search" in params:
                        body = _parse_search(params["search"])
                    self._query(spec, body, paging, "POST", None)
                else:
                    raise _not_allowed(m)
            else:
                raise _errors(404, "No such resource.")
            return
        if rest[0] == "entityinformation":
            if m != "GET":
                raise _not_allowed(m)
            if len(rest) == 1:
                self._send(200, {"info": _entity_info(spec)})
            elif rest[1:] == ["fields"]:
                self._send(200, {"fields": [_field_info(fd, False) for fd in spec.fields]})
            elif rest[1:] == ["userdefinedfields"]:
                self._send(200, {"fields": [_field_info(fd, True) for fd in spec.udfs]})
            else:
                raise _errors(404, "No such resource.")
            return
        try:
            rid = int(parts[1])
        except ValueError:
            raise _errors(404, f"No such resource: {parts[1]}") from None
        if len(parts) == 2:
            if m == "GET":
                rec = self.server.sandbox.store[entity].get(rid)
                if rec is None:
                    raise _errors(404, f"{spec.singular} with id {rid} was not found.")
                self._send(200, {"item": rec})
            elif m == "DELETE":
                self._delete(spec, rid)
            else:
                raise _not_allowed(m)
            return
        child_name = lookup_entity(parts[2])
        if child_name is None or child_name not in spec.children:
            raise _errors(404, f"'{parts[2]}' is not a child collection of {entity}.")
        child = SCHEMAS[child_name]
        parent_field = spec.children[child_name]
        if rid not in self.server.sandbox.store[entity]:
            raise _errors(404, f"{spec.singular} with id {rid} was not found.")
        if len(parts) == 3:
            if m == "GET":
                table = self.server.sandbox.store[child_name]
                items = [r for r in table.values() if r.get(parent_field) == rid]
                items.sort(key=lambda r: r["id"])
                self._send(
                    200,
                    {
                        "items": items,
                        "pageDetails": {
                            "count": len(items),
                            "requestCount": 500,
                            "prevPageUrl": None,
                            "nextPageUrl": None,
                        },
                    },
                )
            elif m == "POST":
                body = self._json_body(raw)
                if isinstance(body, dict):
                    body = {**body, parent_field: rid}
                self._create(child, body)
            elif m in ("PATCH", "PUT"):
                body = self._json_body(raw)
                if isinstance(body, dict):
                    body = {**body, parent_field: rid}
                self._update(child, body, replace=m == "PUT")
            else:
                raise _not_allowed(m)
            return
        try:
            cid = int(parts[3])
        except ValueError:
            raise _errors(404, f"No such resource: {parts[3]}") from None
        rec = self.server.sandbox.store[child_name].get(cid)
        if rec is None or rec.get(parent_field) != rid or len(parts) > 4:
            raise _errors(404, f"{child.singular} with id {cid} was not found under {spec.singular} {rid}.")
        if m == "GET":
            self._send(200, {"item": rec})
        elif m == "DELETE":
            self._delete(child, cid)
        else:
            raise _not_allowed(m)

    # -- queries ----------------------------------------------------------------------------------
    def _matching(self, spec: EntitySpec, body: Any) -> tuple[list[int], Any]:
        try:
            q = parse_query(body)
            table = self.server.sandbox.store[spec.name]
            key = (spec.name, _dumps(q.filter), table.version, id(table))
            srv = self.server
            with srv.cursor_lock:
                ids = srv.cursors.get(key)
                if ids is not None:
                    srv.cursors.move_to_end(key)
            if ids is None:
                ids = match_ids(table, compile_filter(spec, q.filter))
                with srv.cursor_lock:
                    srv.cursors[key] = ids
                    while len(srv.cursors) > _CURSOR_CACHE:
                        srv.cursors.popitem(last=False)
            return ids, q
        except FilterError as e:
            raise _errors(500, str(e)) from None

    def _query(self, spec: EntitySpec, body: Any, paging: str | None, method: str, search: str | None) -> None:
        ids, q = self._matching(spec, body)
        size = q.max_records
        start = 0
        if paging is not None:
            try:
                pg = json.loads(paging)
                next_id = int(pg["nextIds"][0])
                size = int(pg.get("pageSize", size))
            except (ValueError, KeyError, IndexError, TypeError):
                raise _errors(500, "The paging parameter is not valid.") from None
            start = bisect.bisect_left(ids, next_id)
        page_ids = ids[start : start + size]
        table = self.server.sandbox.store[spec.name]
        proj = project(spec, q.include_fields)
        items = [table[i] for i in page_ids if i in table]
        if proj is not None:
            items = [proj(r) for r in items]
        next_url = prev_url = None
        if start + size < len(ids):
            next_url = self._page_url(spec, size, page_ids[0], ids[start + size], search)
        if start > 0:
            prev_start = max(0, start - size)
            prev_url = self._page_url(spec, size, ids[prev_start], ids[prev_start], search)
        self._send(
            200,
            {
                "items": items,
                "pageDetails": {
                    "count": len(items),
                    "requestCount": size,
                    "prevPageUrl": prev_url,
                    "nextPageUrl": next_url,
                },
            },
        )

    def _page_url(self, spec: EntitySpec, size: int, first: int, next_id: int, search: str | None) -> str:
        sb = self.server.sandbox
        root = (sb.faults.next_page_url_override or sb.root_url).rstrip("/")
        paging = _dumps({"pageSize": size, "previousIds": [first], "nextIds": [next_id]})
        url = f"{root}/ATServicesRest/V1.0/{spec.name}/query/next?paging={quote(paging, safe='')}"
        if search is not None:
            url += "&search=" + quote(search, safe="")
        return url

    # -- writes -----------------------------------------------------------------------------------
    def _clean(
        self, spec: EntitySpec, body: dict[str, Any], *, replace: bool, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        store = self.server.sandbox.store
        out: dict[str, Any] = {}
        try:
            for k, raw in body.items():
                fd = spec.by_lower.get(k.lower())
                if fd is None or fd.read_only:
                    continue
                v = coerce(fd, raw)
                if v is not None and fd.picklist is not None and v not in {p for p, _ in fd.picklist}:
                    raise FilterError(f"Value {v!r} is not a valid {fd.name}.")
                if v is not None and fd.reference and v not in store[fd.reference]:
                    raise FilterError(f"{fd.name} {v} does not reference an existing {SCHEMAS[fd.reference].singular}.")
                out[fd.name] = v
        except FilterError as e:
            raise _errors(500, str(e)) from None
        udf_in = body.get("userDefinedFields")
        if isinstance(udf_in, list) and spec.udfs:
            current = {u["name"]: u["value"] for u in (existing or {}).get("userDefinedFields") or []}
            if replace:
                current = {}
            for u in udf_in:
                if isinstance(u, dict):
                    fd = spec.udf_by_lower.get(str(u.get("name", "")).lower())
                    if fd is not None:
                        try:
                            current[fd.name] = coerce(fd, u.get("value"))
                        except FilterError as e:
                            raise _errors(500, str(e)) from None
            out["userDefinedFields"] = [{"name": fd.name, "value": current.get(fd.name)} for fd in spec.udfs]
        return out

    def _create(self, spec: EntitySpec, body: Any) -> None:
        sb = self.server.sandbox
        if not spec.can_create:
            raise _errors(500, f"{spec.singular} entities cannot be created through the API.")
        if not isinstance(body, dict):
            raise _errors(500, "The request body must be a JSON object.")
        fields = self._clean(spec, body, replace=True, existing=None)
        missing = [fd.name for fd in spec.fields if fd.required and not fd.read_only and fields.get(fd.name) is None]
        if missing:
            raise _errors(500, *(f"Missing Required Field: {n}" for n in missing))
        now = _now()
        with self.server.write_lock:
            table = sb.store[spec.name]
            rid = table.next_id()
            rec: dict[str, Any] = {fd.name: fields.get(fd.name) for fd in spec.fields}
            rec["id"] = rid
            for fd in spec.fields:
                if fd.read_only and fd.data_type == "datetime":
                    rec[fd.name] = now
            if "ticketNumber" in rec:
                rec["ticketNumber"] = f"T{now[:4]}{now[5:7]}{now[8:10]}.{rid % 10000:04d}"
            if "projectNumber" in rec:
                rec["projectNumber"] = f"P{20190000 + rid}"
            _set_udfs(rec, fields.get("userDefinedFields"))
            table[rid] = rec
        sb.stats.record_write("POST", spec.name, rid, body)
        self._send(200, {"itemId": rid})

    def _update(self, spec: EntitySpec, body: Any, *, replace: bool) -> None:
        sb = self.server.sandbox
        if not spec.can_update:
            raise _errors(500, f"{spec.singular} entities cannot be updated through the API.")
        if not isinstance(body, dict):
            raise _errors(500, "The request body must be a JSON object.")
        raw_id = next((v for k, v in body.items() if k.lower() == "id"), None)
        try:
            rid = int(raw_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _errors(500, "Missing Required Field: id") from None
        with self.server.write_lock:
            table = sb.store[spec.name]
            old = table.get(rid)
            if old is None:
                raise _errors(404, f"{spec.singular} with id {rid} was not found.")
            fields = self._clean(spec, body, replace=replace, existing=old)
            if replace:
                rec = {fd.name: (old.get(fd.name) if fd.read_only else fields.get(fd.name)) for fd in spec.fields}
                missing = [
                    fd.name for fd in spec.fields if fd.required and not fd.read_only and rec.get(fd.name) is None
                ]
                if missing:
                    raise _errors(500, *(f"Missing Required Field: {n}" for n in missing))
            else:
                rec = {**old, **{k: v for k, v in fields.items() if k != "userDefinedFields"}}
            if "userDefinedFields" in fields:
                _set_udfs(rec, fields["userDefinedFields"])
            elif replace:
                rec.pop("userDefinedFields", None)
            for name in ("lastActivityDate", "lastModifiedDate", "lastModifiedDateTime"):
                if name in rec:
                    rec[name] = _now()
            # Replace, never mutate: a concurrent reader may be serialising the old record.
            table[rid] = rec
        sb.stats.record_write("PUT" if replace else "PATCH", spec.name, rid, body)
        self._send(200, {"itemId": rid})

    def _delete(self, spec: EntitySpec, rid: int) -> None:
        sb = self.server.sandbox
        if not spec.can_delete:
            raise _errors(500, f"{spec.singular} entities cannot be deleted through the API.")
        with self.server.write_lock:
            table = sb.store[spec.name]
            if rid not in table:
                raise _errors(404, f"{spec.singular} with id {rid} was not found.")
            del table[rid]
        sb.stats.record_write("DELETE", spec.name, rid, None)
        self._send(200, {"itemId": rid})


class _Drop(Exception):
    """Close the connection without answering."""


def _set_udfs(rec: dict[str, Any], udfs: list[dict[str, Any]] | None) -> None:
    if udfs is None:
        return
    if any(u["value"] is not None for u in udfs):
        rec["userDefinedFields"] = udfs
    else:
        rec.pop("userDefinedFields", None)  # the real API omits the list when nothing has a value


def _now() -> str:
    return normalize_date(datetime.now(UTC))


def _not_allowed(method: str) -> Reply:
    return _errors(405, f"The requested resource does not support http method '{method}'.")


def _parse_search(search: str) -> Any:
    if not search:
        raise _errors(500, "A query must have a search parameter with a filter.")
    try:
        return json.loads(search)
    except ValueError:
        raise _errors(500, "The search parameter is not valid JSON.") from None


def _template(parts: list[str]) -> list[str]:
    out = []
    for p in parts:
        if p.lstrip("-").isdigit():
            out.append("{id}")
        else:
            ent = lookup_entity(p)
            out.append(ent or p)
    return out


def _entity_info(spec: EntitySpec) -> dict[str, Any]:
    return {
        "name": spec.singular,
        "canCreate": spec.can_create,
        "canDelete": spec.can_delete,
        "canQuery": True,
        "canUpdate": spec.can_update,
        "userAccessForCreate": "All",
        "userAccessForDelete": "All" if spec.can_delete else "None",
        "userAccessForQuery": "All",
        "userAccessForUpdate": "All",
        "hasUserDefinedFields": bool(spec.udfs),
        "supportsWebhookCallouts": spec.name in ("Companies", "Contacts", "Tickets"),
    }


def _field_info(fd: Any, udf: bool) -> dict[str, Any]:
    parents = dict(fd.parent_values or ())
    info: dict[str, Any] = {
        "name": fd.name,
        "dataType": fd.data_type,
        "length": fd.length,
        "isRequired": fd.required,
        "isReadOnly": fd.read_only,
        "isQueryable": True,
        "isReference": fd.reference is not None,
        "referenceEntityType": SCHEMAS[fd.reference].singular if fd.reference else "",
        "isPickList": fd.picklist is not None,
        "picklistValues": None
        if fd.picklist is None
        else [
            {
                "value": str(v) if not udf else label,
                "label": label,
                "isDefaultValue": False,
                "sortOrder": i,
                "parentValue": str(parents[v]) if v in parents else "",
                "isActive": True,
                "isSystem": not udf,
            }
            for i, (v, label) in enumerate(fd.picklist)
        ],
        "picklistParentValueField": fd.parent_field or "",
        "isSupportedWebhookField": False,
    }
    if udf:
        info["udfType"] = 0
        info["isActive"] = True
    return info
