"""GET by id, writes held in memory, metadata endpoints, generated data shape."""

from __future__ import annotations

import re

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import api_user_http

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# On the wire date-times carry 0-3 trimmed fraction digits, as live tenants send them (issue 13).
WIRE_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$")


def test_get_by_id_and_missing_id(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        assert c.get("Tickets/10001").json() == {"item": sandbox.as_sent("Tickets", sandbox.store["Tickets"][10001])}
        # A missing id is HTTP 200 with a null item on a live tenant (issue 13), not a 404.
        r = c.get("Tickets/1")
        assert r.status_code == 200 and r.json() == {"item": None}
        assert c.get("NoSuchEntity/1").status_code == 404


def test_create_patch_put_delete(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        r = c.post(
            "Tickets",
            json={
                "title": "Printer on fire",
                "companyID": 174,
                "status": 1,
                "priority": 4,
                "dueDateTime": "2026-07-01T09:00:00+02:00",
                "userDefinedFields": [{"name": "Root Cause", "value": "Hardware Failure"}],
            },
        )
        tid = r.json()["itemId"]
        rec = c.get(f"Tickets/{tid}").json()["item"]
        assert rec["title"] == "Printer on fire" and rec["dueDateTime"] == "2026-07-01T07:00:00Z"
        assert WIRE_ISO.match(rec["createDate"]) and rec["ticketNumber"].startswith("T")
        assert {"name": "Root Cause", "value": "Hardware Failure"} in rec["userDefinedFields"]
        assert c.patch("Tickets", json={"id": tid, "status": 5}).json() == {"itemId": tid}
        assert sandbox.store["Tickets"][tid]["status"] == 5 and sandbox.store["Tickets"][tid]["title"]
        assert c.patch(f"Tickets/{tid}", json={"status": 1}).status_code == 405
        r = c.put(
            "Tickets",
            json={
                "id": tid,
                "title": "Replaced",
                "companyID": 174,
                "status": 8,
                "priority": 2,
                "dueDateTime": "2026-07-02",
            },
        )
        assert r.status_code == 200
        rec = sandbox.store["Tickets"][tid]
        assert rec["title"] == "Replaced" and rec["contactID"] is None and "userDefinedFields" not in rec
        missing = c.post("Tickets", json={"title": "x"})
        assert missing.status_code == 500 and any("companyID" in e for e in missing.json()["errors"])
        assert (
            c.post(
                "Tickets",
                json={"title": "x", "companyID": 174, "status": 99, "priority": 1, "dueDateTime": "2026-01-01"},
            ).status_code
            == 500
        )
        contact = c.post("Companies/174/Contacts", json={"firstName": "Ada", "lastName": "Lovelace", "isActive": 1})
        cid = contact.json()["itemId"]
        assert sandbox.store["Contacts"][cid]["companyID"] == 174
        assert c.delete(f"Companies/174/Contacts/{cid}").status_code == 200
        assert cid not in sandbox.store["Contacts"]
        # Contacts publish no top-level delete: the path exists for GET, so the method is refused.
        assert c.delete(f"Contacts/{cid}").status_code == 405
    assert [w["method"] for w in sandbox.stats.writes] == ["POST", "PATCH", "PUT", "POST", "DELETE"]


def test_metadata(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        info = c.get("Tickets/entityInformation").json()["info"]
        assert info["name"] == "Ticket" and info["canQuery"] and info["hasUserDefinedFields"]
        fields = {f["name"]: f for f in c.get("Tickets/entityInformation/fields").json()["fields"]}
        status = {p["value"]: p["label"] for p in fields["status"]["picklistValues"]}
        assert status["1"] == "New" and status["5"] == "Complete" and status["8"] == "In Progress"
        assert fields["companyID"]["isReference"] and fields["companyID"]["referenceEntityType"] == "Company"
        assert fields["createDate"]["dataType"] == "datetime" and not fields["title"]["isPickList"]
        for name in ("priority", "queueID", "issueType", "subIssueType", "source", "ticketType"):
            assert fields[name]["isPickList"] and fields[name]["picklistValues"]
        udfs = c.get("Companies/entityInformation/userDefinedFields").json()["fields"]
        assert {u["name"] for u in udfs} == {"Contract Tier", "Seats", "Onboarding Date"}
        assert c.get("Resources/entityInformation/userDefinedFields").json()["fields"] == []


def test_data_is_linked_realistic_and_deterministic(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    a, b = sandbox_factory(seed=3), sandbox_factory(seed=3)
    assert a.ground_truth("Tickets") == b.ground_truth("Tickets")
    s = a.store
    assert 12 <= len(s["Companies"]) < 100 and len(s["Tickets"]) == 2000
    for t in s["Tickets"].values():
        assert t["companyID"] in s["Companies"]
        assert t["contactID"] is None or s["Contacts"][t["contactID"]]["companyID"] == t["companyID"]
        assert t["assignedResourceID"] is None or t["assignedResourceID"] in s["Resources"]
        assert ISO.match(t["createDate"]) and (t["completedDate"] is None) == (t["status"] != 5)
        assert "userDefinedFields" not in t or any(u["value"] is not None for u in t["userDefinedFields"])
    years = {t["createDate"][:4] for t in s["Tickets"].values()}
    assert len(years) >= 5
    for e in s["TimeEntries"].values():
        assert (e["ticketID"] in s["Tickets"]) or (e["taskID"] in s["Tasks"])
    assert all(t["projectID"] in s["Projects"] for t in s["Tasks"].values())
