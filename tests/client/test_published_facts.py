"""Issue 13, the client side: what a live tenant answers (a missing id, auth errors, UDF and value
shapes) and the published surface (write paths, dtypes), against the sandbox."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from autotask_magic import NotFoundError
from autotask_magic.sandbox import Sandbox
from tests._support.clients import api_user_client, oauth_client


def test_a_missing_id_is_not_found_whether_200_null_or_404(sandbox: Sandbox) -> None:
    with oauth_client(sandbox) as client:
        with pytest.raises(NotFoundError) as got:
            client.request("GET", "Tickets/1")  # the sandbox answers 200 {"item": null}, as tenants do
        assert (
            str(got.value) == "not found (no record with that id) (GET /Tickets/1) — check the entity name and the id"
        )
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
        ("GET", "Tickets", "the API has no GET /Tickets — query Tickets with POST /Tickets/query"),
        (
            "GET",
            "Companies/{cid}/Tasks",
            "the API has no GET /Companies/{id}/Tasks — list Tasks with GET /Projects/{id}/Tasks",
        ),
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


# -- point 4: every published data type has a stated dtype ----------------------------------------------------


def test_every_surface_type_converts_to_its_stated_dtype_without_metadata() -> None:
    from autotask_magic.client._frames import to_frame

    records = [
        {
            "id": 1,
            "projectID": 7,
            "estimatedHours": 5,
            "isTaskBillable": True,
            "createDateTime": "2026-01-02T03:04:05Z",
        },
        {"id": 2, "projectID": None, "estimatedHours": 2.5, "isTaskBillable": None, "createDateTime": None},
    ]
    df = to_frame(records, entity="Tasks")  # no tenant metadata: the published surface types the columns
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "id": "int64",
        "projectID": "Int64",
        "estimatedHours": "float64",
        "isTaskBillable": "boolean",
        "createDateTime": "datetime64[s, UTC]",
    }
    one = to_frame([{"id": 1, "projectID": 7, "estimatedHours": 5, "isTaskBillable": True}], entity="Tasks")
    assert str(one["projectID"].dtype) == "Int64" and str(one["estimatedHours"].dtype) == "float64"
    attachment = to_frame([{"id": 3, "data": "aGVsbG8="}], entity="TicketAttachments")
    assert attachment["data"].dtype == "str" and attachment["data"][0] == "aGVsbG8="  # base64 text as sent
    udf_def = to_frame(
        [{"id": 4, "defaultValue": {"a": 1}}, {"id": 5, "defaultValue": None}], entity="UserDefinedFieldDefinitions"
    )
    assert udf_def["defaultValue"].dtype == object and udf_def["defaultValue"][0] == {"a": 1}
    info = to_frame([{"id": 6, "entityDescriptions": [{"x": 1}]}], entity="EntityInformation")
    assert info["entityDescriptions"].dtype == object and info["entityDescriptions"][0] == [{"x": 1}]


def test_the_stated_dtype_table_covers_every_kind() -> None:
    from autotask_magic.client._dtypes import DTYPES, dtype_name
    from autotask_magic.entities import FieldInfo, api_surface, surface_fields

    tables = [surface_fields(name) for name in api_surface()]
    kinds = {f.kind for table in tables if table is not None for f in table.fields}
    assert kinds <= set(DTYPES) and {"integer", "float", "boolean", "datetime", "string", "object"} <= kinds
    assert dtype_name(FieldInfo("id", "long")) == "int64"
    assert (
        dtype_name(FieldInfo("dueDate", "datetime", date_only=True), "Europe/Berlin") == "datetime64[s, Europe/Berlin]"
    )


def test_every_entity_pulls_with_the_stated_dtypes_empty_or_not(sandbox: Sandbox) -> None:
    from autotask_magic.client._dtypes import dtype_name
    from autotask_magic.entities import api_surface

    checked = 0
    with oauth_client(sandbox) as client:
        for name, ent in api_surface().items():
            if not (ent.allows("query") and ent.allows("metadata")):
                continue
            meta = client.fields(name)
            full = client.query(name, limit=20)
            empty = client.query(name, "id < 0")
            assert len(empty) == 0
            assert empty.dtypes.to_dict() == full.dtypes.to_dict(), name
            for column, dtype in full.dtypes.items():
                info = meta.get(column[4:], udf=True) if column.startswith("udf.") else meta.get(column, udf=False)
                assert str(dtype) == dtype_name(info), (name, column, str(dtype))
            checked += 1
    assert checked > 140


# -- point 5: UDF types from `type`, UDF values parsed from text, int/float decimals, 1/0 booleans -----------

UDF_META = {
    "fields": [
        {"name": "Seats", "type": "integer", "label": "Seats", "description": "", "defaultValue": None},
        {"name": "Budget", "type": "decimal", "label": "Budget"},
        {"name": "Renewal", "type": "datetime", "label": "Renewal"},
        {"name": "Audited", "type": "boolean", "label": "Audited"},
        {"name": "Tier", "type": "string", "label": "Tier"},
    ]
}
FIELD_META = {
    "fields": [
        {"name": "id", "dataType": "long", "isRequired": True, "isReadOnly": True},
        {"name": "isActive", "dataType": "boolean"},
        {"name": "hours", "dataType": "decimal"},
    ]
}


def _udfs(seats: str | None, budget: str | None, renewal: str | None, audited: str | None) -> list[dict[str, Any]]:
    values = {"Seats": seats, "Budget": budget, "Renewal": renewal, "Audited": audited, "Tier": "Gold"}
    return [{"name": k, "value": v} for k, v in values.items()]


def test_udf_types_come_from_type_and_text_values_are_parsed() -> None:
    from autotask_magic.client._frames import to_frame
    from autotask_magic.entities import EntityFields

    meta = EntityFields.from_api("Contacts", FIELD_META, UDF_META)
    assert [u.kind for u in meta.udfs] == ["integer", "float", "datetime", "boolean", "string"]
    records = [
        {
            "id": 1,
            "isActive": 1,
            "hours": 50,
            "userDefinedFields": _udfs("10", "20.6400", "2027-01-01T00:00:00Z", "Yes"),
        },
        {"id": 2, "isActive": 0, "hours": 30.25, "userDefinedFields": _udfs(None, "3", "2027-02-01T10:00:00.5Z", "No")},
        {"id": 3, "isActive": None, "hours": None, "userDefinedFields": _udfs("7", None, None, "True")},
    ]
    df = to_frame(records, fields=meta)
    assert str(df["udf.Seats"].dtype) == "Int64" and df["udf.Seats"].tolist() == [10, pd.NA, 7]
    assert df["udf.Budget"].dtype == "float64" and df["udf.Budget"].sum() == pytest.approx(23.64)
    assert str(df["udf.Renewal"].dtype) == "datetime64[s, UTC]"
    assert df["udf.Audited"].dtype == "boolean" and df["udf.Audited"].tolist() == [True, False, True]
    assert df["udf.Tier"].dtype == "str"
    assert df["isActive"].dtype == "boolean" and df["isActive"].tolist() == [True, False, pd.NA]  # 1/0 as sent
    assert df["hours"].dtype == "float64" and df["hours"].tolist()[:2] == [50.0, 30.25]  # int in one, float next


def test_udf_values_from_the_sandbox_are_typed_by_their_metadata(sandbox: Sandbox) -> None:
    with api_user_client(sandbox) as client:
        raw = client.request("POST", "Companies/query", json={"filter": [{"op": "gte", "field": "id", "value": 0}]})
        seats = [u["value"] for r in raw["items"] for u in r["userDefinedFields"] if u["name"] == "Seats"]
        assert any(isinstance(v, str) for v in seats)  # text on the wire, as tenants send it
        df = client.query("Companies")
        assert str(df["udf.Seats"].dtype) == "Int64" and df["udf.Seats"].sum() > 0
        assert str(df["udf.Onboarding Date"].dtype) == "datetime64[s, UTC]"
        assert df["assetValue"].dtype == "float64"  # whole decimals come as int in even-id records
        tickets = client.query("Tickets", limit=600)
        assert (
            tickets["estimatedHours"].dtype == "float64"
            and tickets["serviceLevelAgreementHasBeenMet"].dtype == "boolean"
        )


# -- point 6: the real API's auth answers ------------------------------------------------------------------


def test_a_bad_integration_code_is_an_authentication_error_never_retried(sandbox: Sandbox) -> None:
    from autotask_magic import AuthenticationError, AutotaskClient
    from autotask_magic.client._credentials import ApiUserCredentials

    wrong = "WRONGCODE" + "0" * 17
    creds = ApiUserCredentials(sandbox.username, wrong, sandbox.secret)
    with AutotaskClient(creds, zone_url=sandbox.zone_url) as client:
        sandbox.reset_stats()
        with pytest.raises(AuthenticationError) as got:
            client.count("Tickets")
        text = str(got.value)
        assert got.value.status == 500 and "the API rejected the integration code (HTTP 500)" in text
        assert "server says: IntegrationCode is invalid." in text and "AUTOTASK_INTEGRATION_CODE" in text
        assert wrong not in text and sandbox.secret not in text
        assert sandbox.stats.api_requests == 1  # a 500 naming the code is the user's to fix: not retried
        with pytest.raises(AuthenticationError, match="integration code"):
            client.manager.refresh()  # the login check (ThresholdInformation) says the same


def test_an_unknown_user_at_zone_discovery_names_the_username(sandbox: Sandbox) -> None:
    from autotask_magic import AuthenticationError, AutotaskClient
    from autotask_magic.client._credentials import ApiUserCredentials

    creds = ApiUserCredentials("nobody-at-all@example.com", sandbox.integration_code, sandbox.secret)
    with AutotaskClient(creds, zone_url=sandbox.zone_url) as client, pytest.raises(AuthenticationError) as got:
        client.count("Tickets")
    text = str(got.value)
    assert "unknown API user" in text and "server says: Zone information could not be determined" in text
    assert "AUTOTASK_USERNAME" in text
