"""Reading an answer's body within bounds: a wall-clock deadline for the whole request, a cap on its size.

httpx's timeout applies to each read, so a server dripping one byte a second holds a request for as
long as it likes; and a small gzip body can inflate to gigabytes. :class:`BoundedTransport` streams
the body itself, decompressing chunk by chunk with a bound on the output, and stops at the deadline
(the request's timeout, counted from when it was sent) or at the size cap, in one line.
"""

from __future__ import annotations

import time
import zlib

import httpx

from .._exceptions import AutotaskError, ServerError, TransportError

__all__ = ["BoundedTransport", "check_max_response_bytes"]

# Raw bytes fed to the decompressor at a time: small, so no single step inflates beyond ~1000x it.
_RAW_CHUNK = 16 * 1024
# What the client accepts; a server sending anything else (br, zstd...) is refused, not decoded.
ACCEPT_ENCODING = "gzip, deflate"


def check_max_response_bytes(value: object) -> int:
    """``value`` as a positive byte count, else ConfigurationError."""
    from .._exceptions import ConfigurationError

    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            f"max_response_bytes must be a positive number of bytes, got {value!r}",
            hint="e.g. 16_000_000 (a 500-record page is well under)",
        )
    return value


class _Inflater:
    """One content coding (gzip or deflate), decoded with a bound on each step's output."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._first = True
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to ``room + 1`` bytes of output (one more than allowed tells the caller the cap is hit)."""
        try:
            return self._d.decompress(data, room + 1)
        except zlib.error:
            if self.coding == "deflate" and self._first:  # some servers send raw deflate (no zlib header)
                self._first = False
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._d.decompress(data, room + 1)
            raise
        finally:
            self._first = False

    def flush(self) -> bytes:
        return self._d.flush()


class BoundedTransport(httpx.BaseTransport):
    """Wraps a transport: every answer is read whole, by the deadline, and no larger than ``max_bytes``."""

    def __init__(self, inner: httpx.BaseTransport, max_bytes: int) -> None:
        self._inner = inner
        self.max_bytes = check_max_response_bytes(max_bytes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = (request.extensions.get("timeout") or {}).get("read")
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        response = self._inner.handle_request(request)
        try:
            content = self._read(request, response, deadline, timeout)
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DECODED_AWAY]
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=request, extensions=response.extensions
        )

    def _read(
        self, request: httpx.Request, response: httpx.Response, deadline: float | None, timeout: float | None
    ) -> bytes:
        label = f"{request.method} {request.url.path}"
        failure: AutotaskError | None = None
        try:
            ready: bytes | None = response.content  # already read (a mock transport): only the cap applies
        except httpx.ResponseNotRead:
            ready = None
        if ready is not None:
            if len(ready) > self.max_bytes:
                raise self._too_big(label)
            return ready
        codings = [c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if any(c not in ("gzip", "deflate") for c in codings):
            return self._refuse_coding(label, codings)
        stages = [_Inflater(c) for c in reversed(codings)]
        parts: list[bytes] = []
        size = 0
        try:
            # iter_raw() without a chunk size yields every network read, so the deadline is checked
            # after each one (a chunk size would buffer a slow drip until the chunk is full).
            for received in response.iter_raw():
                for at in range(0, len(received), _RAW_CHUNK):
                    piece = self._decode(stages, received[at : at + _RAW_CHUNK], self.max_bytes - size)
                    parts.append(piece)
                    size += len(piece)
                    if size > self.max_bytes:
                        break
                if size > self.max_bytes:
                    failure = self._too_big(label)
                    break
                if deadline is not None and time.monotonic() > deadline:
                    failure = self._too_slow(label, timeout)
                    break
            else:
                piece = self._flush(stages, self.max_bytes - size)
                parts.append(piece)
                size += len(piece)
                if size > self.max_bytes:
                    failure = self._too_big(label)
        except zlib.error:
            failure = ServerError(
                f"the answer's {'+'.join(codings)} body cannot be decoded",
                status=response.status_code,
                request=label,
                hint="check AUTOTASK_BASE_URL points at the Autotask REST API",
            )
        if failure is not None:
            parts.clear()
            raise failure  # outside the except block: no __context__
        return b"".join(parts)

    @staticmethod
    def _decode(stages: list[_Inflater], raw: bytes, room: int) -> bytes:
        data = raw
        for stage in stages:
            data = stage.feed(data, max(room, 0))
        return data

    @staticmethod
    def _flush(stages: list[_Inflater], room: int) -> bytes:
        data = b""
        for stage in stages:
            data = (stage.feed(data, max(room, 0)) if data else b"") + stage.flush()
        return data

    def _too_big(self, label: str) -> ServerError:
        return ServerError(
            f"the answer is larger than max_response_bytes ({self.max_bytes:,} bytes decoded); it was dropped",
            request=label,
            hint="a 500-record page is far smaller: check the server; to allow more, raise max_response_bytes "
            "(%config AutotaskMagic.max_response_bytes, or AutotaskClient(max_response_bytes=...))",
        )

    @staticmethod
    def _too_slow(label: str, timeout: float | None) -> TransportError:
        return TransportError(
            f"the answer took longer than the timeout ({timeout:g} s) to arrive; the request was abandoned",
            request=label,
            hint="the server is sending very slowly: try again later, or raise the timeout",
        )

    @staticmethod
    def _refuse_coding(label: str, codings: list[str]) -> bytes:
        raise ServerError(
            f"the answer uses a content encoding this client did not ask for ({', '.join(codings)})",
            request=label,
            hint="check AUTOTASK_BASE_URL points at the Autotask REST API",
        )

    def close(self) -> None:
        self._inner.close()


# Headers that describe the encoded body; the content handed on is decoded.
_DECODED_AWAY = frozenset({"content-encoding", "content-length", "transfer-encoding"})
