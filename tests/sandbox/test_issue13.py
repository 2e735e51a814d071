"""Issue 13: the answers third-party clients met on live tenants, points 1-8 and the recorded shapes."""

from __future__ import annotations

import json
import logging
import re
import ssl
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from autotask_magic.sandbox import Sandbox
from autotask_magic.sandbox._state import SlidingWindow
from tests._support.sandbox_http import ALL, api_user_http, cli_banner

WIRE_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$")


def _first(c: httpx.Client, entity: str, n: int = 50, **extra: Any) -> list[dict[str, Any]]:
    r = c.post(f"{entity}/query", json={"filter": ALL, "MaxRecords": n, **extra})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


# -- point 1: a handler exception is an HTTP 500, logged, never a dropped connection ------------------------


def test_point1_task_without_start_does_not_break_time_entries(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        project = sandbox.store["Projects"].ids[0]
        r = c.post(f"Projects/{project}/Tasks", json={"title": "No start", "status": 1, "taskType": 1})
        assert r.status_code == 200, r.text
        # TimeEntries are generated on first use, from every Task: this one has no startDateTime.
        r = c.post("TimeEntries/query/count", json={"filter": ALL})
        assert r.status_code == 200 and r.json()["queryCount"] > 0


def test_point1_handler_exception_is_a_logged_500(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(self: SlidingWindow, key: str, window: float) -> int:
        raise RuntimeError("bug in a handler")

    monkeypatch.setattr(SlidingWindow, "count", boom)
    with caplog.at_level(logging.ERROR, logger="autotask_magic.sandbox"), api_user_http(sandbox) as c:
        r = c.get("ThresholdInformation")
        assert r.status_code == 500
        assert r.json() == {"errors": ["An unexpected error occurred: RuntimeError."]}
        monkeypatch.undo()
        assert c.get("ThresholdInformation").status_code == 200  # the same connection goes on working
    assert any("ThresholdInformation" in rec.getMessage() and rec.exc_info for rec in caplog.records)


# -- point 2: Tasks are created under their project, with required-field and reference checks ---------------


def test_point2_tasks_only_under_projects(sandbox: Sandbox) -> None:
    project = sandbox.store["Projects"].ids[0]
    with api_user_http(sandbox) as c:
        top = c.post("Tasks", json={"title": "x", "status": 1, "taskType": 1, "projectID": project})
        assert top.status_code == 404 and "No HTTP resource was found" in top.json()["Message"]
        missing = c.post(f"Projects/{project}/Tasks", json={"title": "x"})
        assert missing.status_code == 500
        assert set(missing.json()["errors"]) == {"Missing Required Field: status", "Missing Required Field: taskType"}
        bad = c.post(f"Projects/{project}/Tasks", json={"title": "x", "status": 1, "taskType": 99})
        assert bad.status_code == 500
        assert bad.json() == {"errors": ["Value does not reference an existing entity for taskType . "]}
        dangling = c.post(
            f"Projects/{project}/Tasks", json={"title": "x", "status": 1, "taskType": 1, "assignedResourceID": 7}
        )
        assert dangling.json() == {"errors": ["Value does not reference an existing entity for assignedResourceID . "]}
        ok = c.post(f"Projects/{project}/Tasks", json={"title": "Rack the switch", "status": 1, "taskType": 2})
        task = c.get(f"Tasks/{ok.json()['itemId']}").json()["item"]
        assert task["projectID"] == project and task["title"] == "Rack the switch" and task["taskType"] == 2


# -- point 3: auth errors as the real API words them ----------------------------------------------------------


def test_point3_auth_errors(sandbox: Sandbox) -> None:
    good = sandbox.api_user_headers()
    url = sandbox.base_url + "Companies/0"
    r = httpx.get(url, headers={**good, "ApiIntegrationCode": "NOT-THE-CODE"})
    assert r.status_code == 500 and r.json() == {"errors": ["IntegrationCode is invalid."]}
    for header in ("Secret", "UserName"):
        assert httpx.get(url, headers={**good, header: "wrong"}).status_code == 401
    zone = httpx.get(sandbox.zone_url, params={"user": "someone@else.example"})
    assert zone.status_code == 500 and zone.json() == {"errors": ["Zone information could not be determined"]}


# -- point 4: userDefinedFields always present on entities that carry them ----------------------------------


def test_point4_udfs_always_listed_as_strings(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        tickets = _first(c, "Tickets", 200)
        names = ["Root Cause", "Customer Satisfaction", "Follow Up Date"]
        assert all([u["name"] for u in t["userDefinedFields"]] == names for t in tickets)
        values = [u["value"] for t in tickets for u in t["userDefinedFields"] if u["value"] is not None]
        assert values and all(isinstance(v, str) for v in values)  # "4", not 4
        assert any(all(u["value"] is None for u in t["userDefinedFields"]) for t in tickets)  # nulls listed
        seats = [u["value"] for r in _first(c, "Companies") for u in r["userDefinedFields"] if u["name"] == "Seats"]
        assert any(v is not None and v.isdigit() for v in seats)
        assert all(r["userDefinedFields"] == [] for r in _first(c, "Contacts"))  # none declared: []
        assert all("userDefinedFields" not in r for r in _first(c, "TimeEntries") + _first(c, "Resources"))
        narrow = _first(c, "Tickets", 5, IncludeFields=["id", "title"])
        assert all(set(r) == {"id", "title", "userDefinedFields"} for r in narrow)
        got = c.get("Tickets/10001").json()["item"]
        assert [u["name"] for u in got["userDefinedFields"]] == names


# -- point 5: published fields the seed leaves out are kept on writes ----------------------------------------


def test_point5_published_body_fields_round_trip(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        body = {"firstName": "Ada", "lastName": "Lovelace", "isActive": 1, "middleInitial": "K", "roomNumber": "12"}
        cid = c.post("Companies/0/Contacts", json=body).json()["itemId"]
        item = c.get(f"Contacts/{cid}").json()["item"]
        assert item["middleInitial"] == "K" and item["roomNumber"] == "12" and item["companyID"] == 0
        assert "notAField" not in c.get(f"Contacts/{cid}").json()["item"]


# -- point 6: a GET on a POST cursor answers ASP.NET's 405 -------------------------------------------------


def test_point6_405_body(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        first = c.post("Tickets/query", json={"filter": ALL}).json()
        r = c.get(first["pageDetails"]["nextPageUrl"])
        assert r.status_code == 405
        assert r.json() == {"Message": "The requested resource does not support http method 'GET'."}


# -- point 7: the API user is a Resource; the first page's cursor says previousIds [-1] ---------------------


def test_point7_who_am_i_and_first_cursor(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        me = c.post("Resources/query", json={"filter": [{"op": "eq", "field": "email", "value": sandbox.username}]})
        items = me.json()["items"]
        assert len(items) == 1 and items[0]["isActive"] is True
        first = c.post("Tickets/query", json={"filter": ALL}).json()["pageDetails"]["nextPageUrl"]
        paging = json.loads(parse_qs(urlsplit(first).query)["paging"][0])
        assert paging["previousIds"] == [-1] and paging["pageSize"] == 500
        second = c.post(first, json={"filter": ALL}).json()
        paging2 = json.loads(parse_qs(urlsplit(second["pageDetails"]["nextPageUrl"]).query)["paging"][0])
        assert paging2["previousIds"] == [second["items"][0]["id"]]


# -- point 8: --tls / Sandbox(tls=True) with a generated CA ------------------------------------------------


def test_point8_tls_mode(sandbox_factory: Any) -> None:
    sb = sandbox_factory(tickets=50, tls=True)
    assert sb.base_url.startswith("https://127.0.0.1:") and sb.ca_path
    trust = ssl.create_default_context(cafile=sb.ca_path)
    zone = httpx.get(sb.zone_url, params={"user": sb.username}, verify=trust)
    assert zone.status_code == 200 and zone.json()["url"].startswith("https://127.0.0.1:")
    r = httpx.get(sb.base_url + "Companies/0", headers=sb.api_user_headers(), verify=trust)
    assert r.json()["item"]["id"] == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(sb.zone_url, params={"user": sb.username})  # never trusted by default


def test_point8_cli_tls_prints_the_ca() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autotask_magic.sandbox", "--tickets", "50", "--tls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = cli_banner(proc)
        ca = next(x.split(":", 1)[1].strip() for x in lines if x.strip().startswith("CA file"))
        zone = next(x.split("=", 1)[1].strip() for x in lines if x.startswith("export AUTOTASK_ZONE_URL="))
        user = next(x.split("=", 1)[1].strip() for x in lines if x.startswith("export AUTOTASK_USERNAME="))
        assert zone.startswith("https://127.0.0.1:")
        r = httpx.get(zone, params={"user": user}, verify=ssl.create_default_context(cafile=ca), timeout=10)
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- GET of a missing id, and the recorded shapes ----------------------------------------------------------


def test_missing_id_is_a_null_item(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        for path in ("Tickets/1", "Companies/99999999", "ConfigurationItems/424242"):
            r = c.get(path)
            assert r.status_code == 200 and r.json() == {"item": None}, path


def test_wire_shapes(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        tickets = _first(c, "Tickets", 500)
        dates = [t["createDate"] for t in tickets]
        assert all(WIRE_DATE.match(d) for d in dates)
        digits = {len(d[20:-1]) for d in dates if "." in d} | ({0} if any("." not in d for d in dates) else set())
        assert digits == {0, 1, 2, 3}  # 0-3 trimmed fraction digits
        hours = [t["estimatedHours"] for t in tickets]
        assert any(type(h) is int for h in hours) and any(type(h) is float for h in hours)
        worked = [e["dateWorked"] for e in _first(c, "TimeEntries")]
        assert worked and all(d.endswith("T00:00:00Z") for d in worked)  # date-only: midnight UTC
        assert {r["isActive"] for r in _first(c, "Contacts", 200)} == {0, 1}
        fields = {f["name"]: f for f in c.get("Tickets/entityInformation/fields").json()["fields"]}
        queue = fields["queueID"]["picklistValues"]
        assert all(isinstance(p["value"], str) for p in queue)
        labels = [p["label"] for p in queue]
        assert any(not p["isActive"] for p in queue) and len(labels) != len(set(labels))
        assert fields["companyID"]["referenceEntityType"] == "Company"
        assert fields["title"]["referenceEntityType"] == ""
        assert {f["dataType"] for f in fields.values()} <= {
            "integer",
            "long",
            "decimal",
            "datetime",
            "string",
            "boolean",
        }
        udfs = c.get("Tickets/entityInformation/userDefinedFields").json()["fields"]
        assert all(
            "type" in u and "dataType" not in u and {"label", "description", "defaultValue"} <= set(u) for u in udfs
        )


def test_safe_metadata_for_entities_without_declared_facts(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        fields = {f["name"]: f for f in c.get("ConfigurationItems/entityInformation/fields").json()["fields"]}
        assert fields["id"]["isReadOnly"] and not fields["referenceTitle"]["isReadOnly"]
        assert fields["companyID"]["isReference"] and fields["companyID"]["referenceEntityType"] == "Company"
        assert not fields["companyID"]["isRequired"]
        # ids in generated records resolve: the referenced records exist
        for item in _first(c, "ConfigurationItems"):
            assert c.get(f"Companies/{item['companyID']}").json()["item"] is not None
        bad = c.post("ConfigurationItems", json={"companyID": 31337, "referenceTitle": "x"})
        assert bad.json() == {"errors": ["Value does not reference an existing entity for companyID . "]}
        made = c.post("ConfigurationItems", json={"companyID": 0, "referenceTitle": "Edge router", "id": 5})
        item = c.get(f"ConfigurationItems/{made.json()['itemId']}").json()["item"]
        assert item["referenceTitle"] == "Edge router" and item["id"] != 5  # id is read-only
