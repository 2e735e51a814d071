"""Each request has a wall-clock deadline (the timeout covers the whole request, not each read), and
answers are read with a cap on their decoded size: a slow drip and a gzip bomb fail in one line.

Hostile servers on 127.0.0.1; time and memory are bounded (a drip of a dozen bytes, bombs of at most
64 MiB decoded, traced with tracemalloc).
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from autotask_magic import AutotaskError, ConfigurationError, ServerError, TransportError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials
from tests._support.servers import Scripted, reply

MiB = 1024 * 1024
Start = Callable[[Callable[[Any], None]], Scripted]


def _creds() -> ApiUserCredentials:
    return ApiUserCredentials("api@example.com", "IntegrationCode1", "Secret-value-0123456789")


def _drip(h: Any) -> None:
    body = b'{"item": {"id": 0}}'
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.flush()
    for byte in body:  # one byte every 0.5 s: each read is well within the timeout
        h.wfile.write(bytes([byte]))
        h.wfile.flush()
        time.sleep(0.5)


def _bomb(decoded: int, coding: str = "gzip") -> bytes:
    if coding == "gzip":
        return gzip.compress(b"0" * decoded, compresslevel=9)
    return zlib.compress(b"0" * decoded, 9)


def test_a_dripped_body_fails_at_the_timeout(scripted: Start) -> None:
    dripping = scripted(_drip)
    with AutotaskClient(_creds(), base_url=dripping.base_url, timeout=1.0) as c:
        with pytest.raises(TransportError) as info:
            c.request("GET", "Companies/0")  # 19 bytes at 2 per second: ~10 s without a deadline
    text = str(info.value)
    assert "timeout" in text and "\n" not in text
    assert info.value.__context__ is None


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_compression_bomb_fails_in_one_line_within_bounded_memory(scripted: Start, coding: str) -> None:
    body = _bomb(64 * MiB, coding)

    def script(h: Any) -> None:
        reply(h, 200, body, [("Content-Type", "application/json"), ("Content-Encoding", coding)])

    server = scripted(script)
    tracemalloc.start()
    try:
        with AutotaskClient(_creds(), base_url=server.base_url, timeout=10, max_response_bytes=4 * MiB) as c:
            with pytest.raises(ServerError) as info:
                c.request("GET", "Companies/0")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "max_response_bytes" in str(info.value) and "\n" not in str(info.value)
    assert peak < 24 * MiB, f"peak {peak / MiB:.0f} MiB while refusing a 64 MiB bomb"


def test_the_default_cap_refuses_a_bomb_and_lets_a_full_page_through(scripted: Start) -> None:
    from autotask_magic.sandbox import Sandbox

    bomb = _bomb(48 * MiB)

    def script(h: Any) -> None:
        reply(h, 200, bomb, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])

    with AutotaskClient(_creds(), base_url=scripted(script).base_url, timeout=10) as c:
        with pytest.raises(ServerError, match="max_response_bytes"):
            c.request("GET", "Companies/0")
    with Sandbox(tickets=600, seed=2) as sb, AutotaskClient.from_env(sb.env("oauth")) as c:
        assert len(list(c.records("Tickets"))) == 600  # two full pages of every field


def test_a_gzip_answer_within_the_cap_is_decoded(scripted: Start) -> None:
    body = gzip.compress(b'{"item": {"id": 0, "name": "gz"}}')

    def script(h: Any) -> None:
        reply(h, 200, body, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])

    with AutotaskClient(_creds(), base_url=scripted(script).base_url, timeout=10) as c:
        assert c.request("GET", "Companies/0") == {"item": {"id": 0, "name": "gz"}}


def test_max_response_bytes_is_an_option_of_client_and_magic(monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from autotask_magic.sandbox import Sandbox

    with pytest.raises(ConfigurationError):
        AutotaskClient(_creds(), base_url="http://127.0.0.1:9/ATServicesRest/V1.0/", max_response_bytes=0)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "autotask_magic")
    try:
        with Sandbox(tickets=50, seed=2) as sb:
            from autotask_magic.notebook import _magics

            magic = _magics.get_magic(ip)
            assert magic is not None
            magic._environ = sb.env("oauth")
            magic.progress = "none"
            assert ip.run_cell("%autotask_login", store_history=False).success
            ip.run_line_magic("config", "AutotaskMagic.max_response_bytes = 2000")
            result = ip.run_cell("%autotask query Tickets --limit 40", store_history=False)
            assert isinstance(result.error_in_exec, AutotaskError)
            assert "max_response_bytes" in str(result.error_in_exec)
            ip.run_line_magic("config", f"AutotaskMagic.max_response_bytes = {16 * MiB}")
            assert ip.run_cell("%autotask query Tickets --limit 40", store_history=False).success
    finally:
        ip.run_line_magic("unload_ext", "autotask_magic")
