"""Error pages are redacted first, then cut: a gateway echoing the request headers shows no part of a secret.

Also masked in any server text: ``Secret:``, ``ApiIntegrationCode:``, ``Authorization:``, ``UserName:``
header lines and ``client_secret=``, in the one-line error and in ``%autotask_last_error``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic import AuthenticationError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials
from tests._support.servers import Echoing

SECRET = "Sk4tQ8wZ2nV7mP3xR6yL9bHc"  # 24 characters
CODE = "ICx7Kp2Wq9Lm4Rv8Ty3Bn6Za"
USER = "api-user@example.com"
UNREGISTERED = "UnknownValue9f8e7d6c5b4a"  # a value the process never registered as a secret


def _pieces(value: str, size: int = 6) -> list[str]:
    return [value[i : i + size] for i in range(len(value) - size + 1)]


@pytest.fixture
def echoing() -> Iterator[Echoing]:
    server = Echoing(
        status=401,
        pad=0,
        extra=f"Secret: {UNREGISTERED}\nAuthorization: Basic {UNREGISTERED}\nclient_secret={UNREGISTERED}\n",
    )
    yield server
    server.stop()


def _text_of_error(echoing: Echoing) -> str:
    creds = ApiUserCredentials(USER, CODE, SECRET)
    with AutotaskClient(creds, base_url=echoing.base_url, timeout=5) as c:
        with pytest.raises(AuthenticationError) as info:
            c.request("GET", "Companies/0")
    return str(info.value) + repr(info.value.server_messages)


def test_a_cut_never_shows_part_of_a_secret() -> None:
    server = Echoing(status=401)
    texts = []
    try:
        for pad in range(0, 200, 3):  # wherever the page is cut, it is cut after redaction
            server.pad = pad
            texts.append(_text_of_error(server))
    finally:
        server.stop()
    text = "\n".join(texts)
    assert "server says" in text
    leaked = [p for p in _pieces(SECRET) + _pieces(CODE) if p in text]
    assert not leaked, f"part of a secret shows in the one-line error: {leaked[:3]}"


def test_header_lines_in_server_text_are_masked(echoing: Echoing) -> None:
    text = _text_of_error(echoing)
    assert UNREGISTERED not in text
    assert USER not in text  # the echoed UserName header line is masked as well


def test_last_error_shows_no_part_of_a_secret(
    magic_shell: tuple[InteractiveShell, Any, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip, _, shown = magic_shell
    for pad in range(0, 130, 13):
        server = Echoing(status=401, pad=pad, extra=f"Secret: {UNREGISTERED}\n")
        try:
            for key, value in {
                "AUTOTASK_USERNAME": USER,
                "AUTOTASK_INTEGRATION_CODE": CODE,
                "AUTOTASK_SECRET": SECRET,
                "AUTOTASK_BASE_URL": server.base_url,
            }.items():
                monkeypatch.setenv(key, value)
            ip.run_cell("%autotask GET /Companies/0", store_history=False)
            ip.run_cell("%autotask_last_error", store_history=False)
            ip.run_cell("%autotask_logout", store_history=False)
        finally:
            server.stop()
    out = capsys.readouterr()
    text = out.out + out.err + "\n".join(str(x) for x in shown)
    assert "server says" in text
    leaked = [p for p in _pieces(SECRET) + _pieces(CODE) + [UNREGISTERED] if p in text]
    assert not leaked, leaked[:3]
