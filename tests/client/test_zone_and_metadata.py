"""The cold pull's round trips: the zone is discovered once per process and user, and the two metadata
calls of an entity go out together."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from autotask_magic.client import _manager, _zones
from autotask_magic.sandbox import Sandbox
from tests._support.clients import api_user_client


def test_a_second_client_of_the_same_user_does_not_ask_for_the_zone_again(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_zones, "_ZONES", {})  # a sandbox earlier in this process may have had this port
    asked: list[str] = []
    real = _manager.discover_zone

    def counting(http: Any, zone_url: str, creds: Any, *args: Any) -> Any:
        asked.append(zone_url)
        return real(http, zone_url, creds, *args)

    monkeypatch.setattr(_manager, "discover_zone", counting)
    with api_user_client(sandbox) as first:
        assert first.count("Companies") > 0
    with api_user_client(sandbox) as second:
        assert second.count("Companies") > 0
        assert second.manager.status().zone == first.manager.status().zone is not None
    assert asked == [sandbox.zone_url]


def test_the_two_metadata_calls_are_in_flight_together(sandbox: Sandbox) -> None:
    both = threading.Barrier(2, timeout=10)  # passes only when both requests are being sent at once
    with api_user_client(sandbox) as client:
        client.base_url  # noqa: B018 - the zone first
        send = client._send

        def meeting(method: str, url: str, **kw: Any) -> Any:
            if "entityInformation" in url:
                both.wait()
            return send(method, url, **kw)

        client._send = meeting  # type: ignore[method-assign]
        fields = client.fields("Tickets")
    assert "status" in fields and fields.udf_names
