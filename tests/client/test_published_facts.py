"""Issue 13, the client side: what a live tenant answers (a missing id, auth errors, UDF and value
shapes) and the published surface (write paths, dtypes), against the sandbox."""

from __future__ import annotations

import pytest

from autotask_magic import NotFoundError
from autotask_magic.sandbox import Sandbox
from tests._support.clients import api_user_client, oauth_client


def test_a_missing_id_is_not_found_whether_200_null_or_404(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        with pytest.raises(NotFoundError) as got:
            client.request("GET", "Tickets/1")  # the sandbox answers 200 {"item": null}, as tenants do
        assert str(got.value) == "no record with that id (GET /Tickets/1) — check the entity name and the id"
        with pytest.raises(NotFoundError, match=r"HTTP 404"):
            client.request("GET", "Tickets/1/Nothing")
        assert client.request("GET", f"Tickets/{sandbox.store['Tickets'].ids[0]}")["item"]["id"] > 0


def test_a_missing_child_id_is_not_found_too(sandbox: Sandbox) -> None:
    company = sandbox.store["Companies"].ids[0]
    with api_user_client(sandbox) as client, pytest.raises(NotFoundError):
        client.request("GET", f"Companies/{company}/Contacts/999999")


# -- point 1: the write-path rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("POST", "Tasks", "the API has no POST /Tasks — create Tasks with POST /Projects/{id}/Tasks"),
        ("POST", "Contacts", "create Contacts with POST /Companies/{id}/Contacts"),
        ("PATCH", "Contacts", "the API has no PATCH /Contacts — update Contacts with PATCH /Companies/{id}/Contacts"),
        ("POST", "Companies/{cid}/Tasks", "the API has no POST /Companies/{id}/Tasks — create Tasks with POST"),
        ("DELETE", "Tickets/{tid}", "the API has no DELETE /Tickets/{id} — the API does not delete Tickets at all"),
        ("POST", "Expenses/query", "the API has no POST /Expenses/query — the API does not query Expenses at all"),
        ("GET", "TaskNotes/{tid}", None),  # published: sent (the server answers)
    ],
)
def test_a_request_the_api_does_not_offer_is_refused_before_sending(
    sandbox: Sandbox, method: str, path: str, message: str | None
) -> None:
    from autotask_magic import ConfigurationError

    path = path.format(cid=sandbox.store["Companies"].ids[0], tid=sandbox.store["Tickets"].ids[0])
    with api_user_client(sandbox) as client:
        client.manager.refresh()  # zone discovery done: only the refused request itself is counted
        sandbox.reset_stats()
        if message is None:
            with pytest.raises(NotFoundError):
                client.request(method, path)
            assert sandbox.stats.api_requests == 1
            return
        with pytest.raises(ConfigurationError) as got:
            client.request(method, path, json={"title": "x"} if method in ("POST", "PATCH") else None)
        assert message in str(got.value) and str(got.value).endswith("nothing was sent")
        assert sandbox.stats.api_requests == 0


def test_queries_counts_and_metadata_of_unpublished_operations_are_refused(sandbox: Sandbox) -> None:
    from autotask_magic import ConfigurationError

    with oauth_client(sandbox) as client:
        sandbox.reset_stats()
        with pytest.raises(ConfigurationError, match=r"no POST /ServiceLevelAgreements/query"):
            client.query("ServiceLevelAgreements")
        with pytest.raises(ConfigurationError, match=r"no POST /Expenses/query/count"):
            client.count("Expenses")
        with pytest.raises(
            ConfigurationError, match=r"no POST /InvoicePDF/query — list InvoicePDF with GET /InvoicePDF;"
        ):
            list(client.records("InvoicePDF"))
        assert sandbox.stats.api_requests == 0


def test_an_entity_the_surface_does_not_know_is_left_to_the_server(sandbox: Sandbox) -> None:
    # Tenants serve entities newer than the published definition: the surface alone refuses none.
    with oauth_client(sandbox) as client, pytest.raises(NotFoundError, match=r"HTTP 404"):
        client.request("POST", "BrandNewEntities", json={"x": 1})
    assert sandbox.stats.api_requests >= 1
