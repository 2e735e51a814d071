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
