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

import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ._request import Drop, Reply, Request, SandboxView, Shared, dumps, errors
from ._routes import dispatch

_log = logging.getLogger("autotask_magic.sandbox")

__all__ = ["Handler", "SandboxHTTPServer"]


class SandboxHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying its Sandbox (state, faults, stats) and the state its requests share."""

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, sandbox: SandboxView, port: int) -> None:
        self.sandbox = sandbox
        self.shared = Shared(sandbox.seed)
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


class Handler(BaseHTTPRequestHandler):
    """One HTTP connection's requests: every method funnels into ``_dispatch``, which hands over to ``_routes``."""

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

    def _dispatch(self) -> None:
        arrived = time.monotonic()
        raw = self._read_body()
        url = urlsplit(self.path)
        req = Request(
            method=self.command,
            headers=self.headers,
            raw=raw,
            query=url.query,
            sandbox=self.server.sandbox,
            shared=self.server.shared,
            send=lambda reply: self._send(req, reply),
            arrived=arrived,
            path=url.path,
        )
        try:
            dispatch(req, url.path)
        except Reply as r:
            if r.status == 429:
                req.sandbox.stats.count_429()
            self._send(req, r)
        except Drop:
            self.close_connection = True
        except Exception as exc:  # a bug in a handler: answer as the API does, never drop the connection
            _log.exception("sandbox: %s %s failed", self.command, url.path)
            req.release_slot()
            try:
                self._send(req, errors(500, f"An unexpected error occurred: {type(exc).__name__}."))
            except OSError:
                self.close_connection = True

    def _read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, req: Request, reply: Reply) -> None:
        body = reply.body
        data = b"" if body is None else dumps(body).encode("utf-8")
        # Sleep only for the part of the latency the request's own processing has not used up.
        deadline, req.deadline = req.deadline, None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left > 0:
                time.sleep(left)
        try:
            reason = HTTPStatus(reply.status).phrase
        except ValueError:
            reason = "Error"
        lines = [f"HTTP/1.1 {reply.status} {reason}", f"Server: {self.server_version}", f"Content-Length: {len(data)}"]
        if data:
            lines.append("Content-Type: application/json; charset=utf-8")
        for k, v in reply.headers.items():
            lines.append(f"{k}: {v}")
        if self.close_connection:
            lines.append("Connection: close")
        # The request stops counting against the endpoint's concurrency before its last byte goes out: a
        # client that has read the whole response may send its next request at once, and must not be
        # told it has too many in flight by a handler thread that has not yet run its ``finally``.
        req.release_slot()
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
