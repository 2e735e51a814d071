"""``Sandbox.stop()`` ends everything: no new connections and no answers on live keep-alive ones."""

from __future__ import annotations

import socket

import httpx
import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import api_user_http


def _raw_get(sock: socket.socket, path: str) -> bytes:
    """One HTTP/1.1 request on an open connection; the answer's bytes (b"" if the server hung up)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    for _ in range(100):  # bounded: a zone answer is one small response
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            if len(body) >= length:
                break
    return data


def test_stop_closes_live_keep_alive_connections() -> None:
    sb = Sandbox(tickets=10).start()
    path = "/atservicesrest/V1.0/zoneInformation?user=" + sb.username
    sock = socket.create_connection(("127.0.0.1", sb.port), timeout=10)
    try:
        assert _raw_get(sock, path).startswith(b"HTTP/1.1 200")  # the connection is live and kept open
        sb.stop()
        try:
            answer = _raw_get(sock, path)
        except OSError:  # reset by the server: also a hang-up
            answer = b""
        assert answer == b"", "a connection opened before stop() was still answered after it"
    finally:
        sock.close()
        sb.stop()


def test_stop_breaks_an_httpx_keep_alive_client() -> None:
    sb = Sandbox(tickets=10).start()
    client = api_user_http(sb)
    try:
        assert client.get("Companies/0").status_code == 200
        sb.stop()
        with pytest.raises(httpx.TransportError):
            client.get("Companies/0")
    finally:
        client.close()


def test_stop_is_idempotent() -> None:
    sb = Sandbox(tickets=10).start()
    sb.stop()
    sb.stop()
    assert not sb.running
