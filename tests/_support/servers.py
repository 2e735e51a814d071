"""Tiny real HTTP servers on 127.0.0.x: token scope, 403s and hostile answers (the sandbox covers the rest)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREDENTIAL_HEADERS = ("authorization", "secret", "apiintegrationcode", "username", "cookie")


class _Served:
    """A ThreadingHTTPServer on ``host`` (127.0.0.x) serving ``handler`` from a daemon thread."""

    host: str = "127.0.0.1"

    def _serve(self, handler: type[BaseHTTPRequestHandler], host: str, name: str) -> None:
        self.host = host
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"autotask-sandbox-{name}-{self.port}",
            daemon=True,
        )
        self.thread.start()

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/ATServicesRest/V1.0/"

    @property
    def token_url(self) -> str:
        return f"{self.root}/ATServicesRest/oauth/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Recorder(_Served):
    """An HTTP server on another 127.0.0.1 port that records every request and any credential it carries."""

    def __init__(self, status: int = 200, body: Any = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[tuple[str, str]] = []
        self.credentials: list[tuple[str, str]] = []
        self.status, self.body = status, body if body is not None else {"items": [], "pageDetails": {}}
        rec = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def handle_one(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec.requests.append((self.command, self.path))
                for k, v in self.headers.items():
                    if k.lower() in CREDENTIAL_HEADERS:
                        rec.credentials.append((k, v))
                if b"client_secret" in body:
                    rec.credentials.append(("form", "client_secret"))
                data = json.dumps(rec.body).encode()
                self.send_response(rec.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_one

        self._serve(H, host, "recorder")


class Forbidding(_Served):
    """An OAuth token endpoint plus an API that answers 403 to everything (counts token requests)."""

    def __init__(self) -> None:
        self.token_requests = 0
        self.api_requests = 0
        owner = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                if self.path.lower().endswith("/oauth/token"):
                    owner.token_requests += 1
                    self._reply(200, {"access_token": f"tok-403-{owner.token_requests}", "expires_in": 3600})
                else:
                    owner.api_requests += 1
                    self._reply(403, {"error": "insufficient_scope", "error_description": "Insufficient permissions"})

            do_GET = do_POST

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(H, "127.0.0.1", "403")


class Echoing:
    """A gateway that answers every request with an HTML error page echoing the request's headers.

    The page starts with ``extra`` and ``pad`` characters of filler (``pad`` may change between requests),
    so a header value can be made to straddle the point where an error message would be cut.
    """

    def __init__(self, status: int = 401, pad: int = 0, extra: str = "", host: str = "127.0.0.1") -> None:
        self.pad = pad

        def script(h: Any) -> None:
            echoed = "".join(f"{k}: {v}\n" for k, v in h.headers.items())
            page = f"<html><body><h1>{status}</h1><pre>{extra}{'x' * self.pad}\n{echoed}</pre></body></html>"
            reply(h, status, page.encode(), [("Content-Type", "text/html")])

        self._scripted = Scripted(script, host=host)
        self.base_url = self._scripted.base_url

    def stop(self) -> None:
        self._scripted.stop()


class Scripted(_Served):
    """A hostile HTTP/1.1 server on 127.0.0.x whose every answer is written by ``script(handler)``.

    ``script`` gets the ``BaseHTTPRequestHandler`` after the request body was read (``handler.body``)
    and writes whatever it likes to ``handler.wfile``: slow drips, gzip bombs, echoed headers, resets.
    """

    def __init__(self, script: Any, host: str = "127.0.0.1") -> None:
        self.requests: list[tuple[str, str]] = []
        owner = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def handle_one(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(n) if n else b""
                owner.requests.append((self.command, self.path))
                try:
                    script(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: that is what many of these tests want
                self.close_connection = True

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_one

        self._serve(H, host, "scripted")


def reply(handler: Any, status: int, body: bytes, headers: Any = ()) -> None:
    """Write one complete answer (status, headers, body) from a :class:`Scripted` script."""
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
