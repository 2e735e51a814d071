"""A real HTTP transport that also records what it sends."""

from __future__ import annotations

import httpx


class RecordingTransport(httpx.BaseTransport):
    """A real HTTP transport that also records every request it sends (URL and headers)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
