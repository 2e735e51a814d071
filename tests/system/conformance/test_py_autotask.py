"""Conformance with an outside client: ``py-autotask`` 2.3.0, written for live tenants, against the sandbox.

API-user mode end to end: zone discovery, filtered query, filtered count, get by id, create, child
create, bad credentials. Three guards keep it honest and quiet:

- its zone URL is a hard-coded class attribute with a fallback table of real hosts: both point at the
  sandbox, and a socket guard refuses (loudly) any connection or lookup that is not loopback;
- its urllib3 retries (500s on POST included, about 7 s per validation error) are bounded to none;
- it logs request headers, Secret included, at INFO: its loggers are silenced, and the test checks that
  nothing it did log carries the secret.

Where the client is wrong, the test asserts the real API's answer, not the client's wish.
"""

from __future__ import annotations

import logging
import socket
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from autotask_magic.sandbox import Sandbox

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # its pydantic-v1-style models warn on import
    pytest.importorskip("py_autotask", minversion="2.3.0")
    from py_autotask import AutotaskClient
    from py_autotask.auth import AutotaskAuth
    from py_autotask.exceptions import AutotaskAPIError, AutotaskAuthError, AutotaskError
    from py_autotask.types import RequestConfig

ALL = [{"op": "gte", "field": "id", "value": 0}]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class OutboundConnection(AssertionError):
    """The client tried to reach something other than the sandbox."""


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection and name lookup that is not loopback, for the whole test."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
            raise OutboundConnection(f"py-autotask tried to connect to {address!r}")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOOPBACK and host is not None:
            raise OutboundConnection(f"py-autotask tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """py-autotask's loggers at WARNING (its INFO lines carry the Secret header); captured for a leak check."""
    log = logging.getLogger("py_autotask")
    old = log.level
    log.setLevel(logging.WARNING)
    caplog.set_level(logging.WARNING, logger="py_autotask")
    try:
        yield caplog
    finally:
        log.setLevel(old)


@pytest.fixture
def sb(no_internet: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(tickets=1200) as sandbox:
        monkeypatch.setattr(AutotaskAuth, "ZONE_INFO_URL", sandbox.zone_url)
        # Its fallback on zone errors is a table of real webservices hosts: point every entry here too.
        fallback = sandbox.root_url + "/ATServicesRest"
        monkeypatch.setattr(AutotaskAuth, "ZONE_URLS", dict.fromkeys(AutotaskAuth.ZONE_URLS, fallback))
        AutotaskAuth.clear_zone_cache()
        yield sandbox
        AutotaskAuth.clear_zone_cache()


def _client(sb: Sandbox, **override: str) -> AutotaskClient:
    creds = {"username": sb.username, "integration_code": sb.integration_code, "secret": sb.secret, **override}
    # No retries: its adapters retry 5xx on POST with back-off, seconds per validation error.
    return AutotaskClient.create(**creds, config=RequestConfig(max_retries=0, timeout=10))


def _no_secret_logged(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    assert sb.secret not in caplog.text


def test_zone_discovery_query_count_get(sb: Sandbox, quiet_logs: pytest.LogCaptureFixture) -> None:
    with _client(sb) as client:
        assert client.auth.api_url == sb.root_url + "/ATServicesRest/"
        flt = [{"op": "eq", "field": "status", "value": 5}, {"op": "lt", "field": "priority", "value": 3}]
        page = client.query("Tickets", filters=flt, max_records=50)
        truth = sb.ground_truth("Tickets", flt)
        assert [t["id"] for t in page.items] == [t["id"] for t in truth[:50]]
        assert page.page_details.next_page_url  # more than one page matches
        assert client.count("Tickets", {"filter": flt}) == len(truth)
        company = client.get("Companies", 0)
        assert company is not None and company["companyName"] == "Sandbox MSP"
        assert isinstance(company["userDefinedFields"], list)
        assert client.get("Companies", 987654321) is None  # the real API: 200 {"item": null}
        me = client.query("Resources", filters=[{"op": "eq", "field": "email", "value": sb.username}])
        assert len(me.items) == 1  # "who am I" resolves
        fields = client.get_field_info("Tickets")
        names = {f["name"] for f in fields["fields"]}
        assert {"id", "title", "status", "companyID"} <= names
    _no_secret_logged(sb, quiet_logs)


def test_create_and_child_create(sb: Sandbox, quiet_logs: pytest.LogCaptureFixture) -> None:
    with _client(sb) as client:
        body = {"title": "From py-autotask", "companyID": 0, "status": 1, "priority": 2, "dueDateTime": "2026-07-01"}
        tid = client.create_entity("Tickets", body).item_id
        assert sb.store["Tickets"][tid]["title"] == "From py-autotask"
        pid = sb.store["Projects"].ids[0]
        task = client.create_child_entity("Projects", pid, "Tasks", {"title": "Child", "status": 1, "taskType": 1})
        assert sb.store["Tasks"][task.item_id]["projectID"] == pid
        contact = client.create_child_entity(
            "Companies", 0, "Contacts", {"firstName": "Py", "lastName": "Client", "isActive": 1}
        )
        assert sb.store["Contacts"][contact.item_id]["companyID"] == 0
        # The API has no top-level Tasks create: 404, which the client reports as not found.
        with pytest.raises(AutotaskError):
            client.create_entity("Tasks", {"title": "x", "status": 1, "taskType": 1, "projectID": pid})
        # A validation error is HTTP 500 {"errors": [...]}: answered once, not retried.
        before = sb.stats.requests_by_endpoint.get("POST /Tickets", 0)
        with pytest.raises(AutotaskAPIError):
            client.create_entity("Tickets", {"title": "incomplete"})
        assert sb.stats.requests_by_endpoint["POST /Tickets"] == before + 1
    _no_secret_logged(sb, quiet_logs)


def test_where_the_client_is_wrong_the_api_answer_stands(sb: Sandbox, quiet_logs: pytest.LogCaptureFixture) -> None:
    with _client(sb) as client:
        total = client.count("Tickets", {"filter": ALL})
        rows = client.tickets.query_all(filters=ALL)
        # Its query_all never follows nextPageUrl with the query body, so it stops at the first 500.
        assert total == 1200 and len(rows) == 500
        first = client.query("Tickets", filters=ALL)
        assert first.page_details.next_page_url  # the API says there is more
        # Its update PATCHes /Tickets/{id}; the API updates with PATCH /Tickets and answers that path 405.
        with pytest.raises(AutotaskAPIError):
            client.update("Tickets", {"id": rows[0]["id"], "title": "patched"})
        response = client.session.patch(
            client.auth.api_url + "v1.0/Tickets/" + str(rows[0]["id"]), json={"title": "patched"}, timeout=10
        )
        assert response.status_code == 405
        assert response.json() == {"Message": "The requested resource does not support http method 'PATCH'."}
        assert sb.store["Tickets"][rows[0]["id"]]["title"] != "patched"
    _no_secret_logged(sb, quiet_logs)


def test_bad_credentials(sb: Sandbox, quiet_logs: pytest.LogCaptureFixture) -> None:
    with _client(sb, secret="not-the-secret") as client, pytest.raises(AutotaskAuthError):
        client.query("Companies", filters=ALL)
    with _client(sb, integration_code="NOT-A-CODE") as client:
        # The real API: HTTP 500 {"errors": ["IntegrationCode is invalid."]} (the client calls it an API error).
        with pytest.raises(AutotaskAPIError):
            client.query("Companies", filters=ALL)
        r = client.session.get(client.auth.api_url + "v1.0/Companies/0", timeout=10)
        assert r.status_code == 500 and r.json() == {"errors": ["IntegrationCode is invalid."]}
    with _client(sb, username="nobody@example.com") as client, pytest.raises(AutotaskAuthError, match="Zone"):
        client.auth.api_url  # noqa: B018 - zone discovery happens on first use
    _no_secret_logged(sb, quiet_logs)


def test_the_socket_guard_refuses_the_internet(sb: Sandbox) -> None:
    with pytest.raises(OutboundConnection):
        socket.getaddrinfo("webservices.autotask.net", 443)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(OutboundConnection):
            s.connect(("93.184.216.34", 443))
    finally:
        s.close()
