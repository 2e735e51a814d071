"""Deeply nested JSON (from a hostile server or a cell body) and a 200,000-character path are one-line
errors, not a raw ``RecursionError`` or ``httpx.InvalidURL``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from autotask_magic import AutotaskError
from autotask_magic.client._client import AutotaskClient
from autotask_magic.client._credentials import ApiUserCredentials
from tests._support.servers import Scripted, reply

DEEP = "[" * 100_000 + "]" * 100_000


def _creds() -> ApiUserCredentials:
    return ApiUserCredentials("api@example.com", "IntegrationCode1", "Secret-value-0123456789")


@pytest.fixture
def deep_server(scripted: Callable[[Callable[[Any], None]], Scripted]) -> Scripted:
    def script(h: Any) -> None:
        if h.path.endswith("/query"):
            body = '{"items": [{"id": 1, "x": ' + DEEP + '}], "pageDetails": {"count": 1, "nextPageUrl": null}}'
        else:
            body = '{"item": ' + DEEP + "}"
        reply(h, 200, body.encode(), [("Content-Type", "application/json")])

    return scripted(script)


def test_deeply_nested_answer_is_a_one_line_error(deep_server: Scripted) -> None:
    with AutotaskClient(_creds(), base_url=deep_server.base_url, timeout=10) as c:
        with pytest.raises(AutotaskError) as info:
            c.request("GET", "Companies/0")
        assert "nested" in str(info.value) and "\n" not in str(info.value)
        with pytest.raises(AutotaskError) as info:
            list(c.records("Tickets"))
        assert "nested" in str(info.value) and "\n" not in str(info.value)


def test_a_200000_character_path_is_a_one_line_error() -> None:
    with AutotaskClient(_creds(), base_url="http://127.0.0.1:9/ATServicesRest/V1.0/", timeout=5) as c:
        with pytest.raises(AutotaskError) as info:
            c.request("GET", "Companies/" + "a" * 200_000)
    text = str(info.value)
    assert "too long" in text and len(text) < 400


def test_deeply_nested_cell_body_and_long_path_in_the_magic(
    magic_shell: tuple[InteractiveShell, Any, list[Any]],
    deep_server: Scripted,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    shell = magic_shell[0]
    for key, value in {
        "AUTOTASK_USERNAME": "api@example.com",
        "AUTOTASK_INTEGRATION_CODE": "IntegrationCode1",
        "AUTOTASK_SECRET": "Secret-value-0123456789",
        "AUTOTASK_BASE_URL": deep_server.base_url,
    }.items():
        monkeypatch.setenv(key, value)
    cells = [
        "%%autotask POST /Tickets --dry-run\n" + DEEP,
        "%autotask GET /Companies/" + "a" * 200_000,
        "%autotask GET /Companies/0",
        "%autotask query Tickets --limit 5",
    ]
    for cell in cells:
        capsys.readouterr()
        result = shell.run_cell(cell, store_history=False)
        err = result.error_in_exec
        assert isinstance(err, (AutotaskError, UsageError)), (cell[:40], type(err).__name__)
        out = capsys.readouterr()
        printed = [ln for ln in (out.out + out.err).splitlines() if ln.strip()]
        assert len(printed) <= 2 and all(len(ln) < 600 for ln in printed), (cell[:40], printed[:3])
    assert json.loads("[[1]]") == [[1]]
