"""The transport that applies the client-side limits (``_limits``) to every request on the wire."""

from __future__ import annotations

import httpx

from ._limits import Limits, endpoint_key

__all__ = ["LimitedTransport"]


class LimitedTransport(httpx.BaseTransport):
    """Applies the client-side limits to every request that goes on the wire (retries and replays too)."""

    def __init__(self, inner: httpx.BaseTransport, limits: Limits) -> None:
        self._inner = inner
        self._limits = limits

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = endpoint_key(request.method, request.url.path)
        with self._limits.request(key):
            response = self._inner.handle_request(request)
            try:
                # Read the body while holding the endpoint slot: the request is in flight until then.
                response.read()
            finally:
                response.close()
        return response

    def close(self) -> None:
        self._inner.close()
