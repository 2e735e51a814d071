"""Paging partitions a result exactly; POST cursors must be followed with POST."""

from __future__ import annotations

from typing import Any

import httpx

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import ALL, api_user_http, pull, search


def test_post_paging_partitions_exactly(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        items, pages = pull(c, "Tickets", {"filter": ALL})
    ids = [r["id"] for r in items]
    assert ids == sandbox.store["Tickets"].ids  # no gaps, no duplicates, id order
    assert pages == -(-len(ids) // 500)
    assert sandbox.stats.requests_by_endpoint["POST /Tickets/query/next"] == pages - 1


def test_pages_are_500_and_last_has_no_next(sandbox: Sandbox) -> None:
    body = {"filter": [{"op": "noteq", "field": "status", "value": 5}, {"op": "gte", "field": "id", "value": 0}]}
    expected = [r["id"] for r in sandbox.ground_truth("Tickets", body["filter"])]
    with api_user_http(sandbox) as c:
        r = c.post("Tickets/query", json={"filter": ALL})
        sizes = []
        data = r.json()
        for _ in range(100):
            sizes.append(data["pageDetails"]["count"])
            assert data["pageDetails"]["count"] == len(data["items"])
            nxt = data["pageDetails"]["nextPageUrl"]
            if not nxt:
                break
            assert nxt.startswith(sandbox.base_url)
            data = c.post(nxt, json={"filter": ALL}).json()
        assert all(s == 500 for s in sizes[:-1]) and 0 < sizes[-1] <= 500
        got, _ = pull(c, "Tickets", body)
        assert [x["id"] for x in got] == expected


def test_small_pages_with_max_records(sandbox: Sandbox) -> None:
    flt = [{"op": "eq", "field": "priority", "value": 1}]
    with api_user_http(sandbox) as c:
        items, pages = pull(c, "Tickets", {"filter": flt, "MaxRecords": 37})
    expected = [r["id"] for r in sandbox.ground_truth("Tickets", flt)]
    assert [r["id"] for r in items] == expected
    assert pages == -(-len(expected) // 37)


def test_get_on_post_cursor_is_405(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        nxt = c.post("Tickets/query", json={"filter": ALL}).json()["pageDetails"]["nextPageUrl"]
        r = c.get(nxt)
        assert r.status_code == 405


def test_get_search_paging_follows_with_get(sandbox: Sandbox) -> None:
    body: dict[str, Any] = {"filter": ALL}
    with api_user_http(sandbox) as c:
        data = c.get("Tickets/query", params=search(body)).json()
        ids = [r["id"] for r in data["items"]]
        for _ in range(100):
            nxt = data["pageDetails"]["nextPageUrl"]
            if not nxt:
                break
            assert "search=" in nxt
            data = c.get(nxt).json()
            ids += [r["id"] for r in data["items"]]
    assert ids == sandbox.store["Tickets"].ids


def test_writes_during_paging_do_not_duplicate(sandbox: Sandbox) -> None:
    with api_user_http(sandbox) as c:
        data = c.post("Tickets/query", json={"filter": ALL}).json()
        seen = [r["id"] for r in data["items"]]
        first = seen[0]
        assert c.delete(f"TimeEntries/{sandbox.store['TimeEntries'].ids[0]}").status_code == 200
        r = c.post(
            "Tickets",
            json={"title": "new", "companyID": 174, "status": 1, "priority": 2, "dueDateTime": "2026-07-01T00:00:00Z"},
        )
        new_id = r.json()["itemId"]
        for _ in range(100):
            nxt = data["pageDetails"]["nextPageUrl"]
            if not nxt:
                break
            data = c.post(nxt, json={"filter": ALL}).json()
            seen += [x["id"] for x in data["items"]]
    assert len(seen) == len(set(seen)) and seen[0] == first and seen[-1] == new_id


def test_next_page_url_override(sandbox: Sandbox) -> None:
    sandbox.faults.next_page_url_override = "http://127.0.0.1:9"
    with api_user_http(sandbox) as c:
        nxt = c.post("Tickets/query", json={"filter": ALL}).json()["pageDetails"]["nextPageUrl"]
    assert nxt.startswith("http://127.0.0.1:9/ATServicesRest/V1.0/Tickets/query/next?")


def test_child_collection(sandbox: Sandbox) -> None:
    company = sandbox.ground_truth("Companies", [{"op": "gt", "field": "id", "value": 0}])[0]
    expected = [
        r["id"] for r in sandbox.ground_truth("Contacts", [{"op": "eq", "field": "companyID", "value": company["id"]}])
    ]
    with api_user_http(sandbox) as c:
        r = c.get(f"Companies/{company['id']}/Contacts")
        assert [x["id"] for x in r.json()["items"]] == expected and expected
        one = c.get(f"Companies/{company['id']}/Contacts/{expected[0]}").json()["item"]
        assert one["companyID"] == company["id"]
        assert c.get("Companies/999999/Contacts").status_code == 404


def test_http_keep_alive(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url, headers=sandbox.api_user_headers()) as c:
        for _ in range(5):
            assert c.post("Tickets/query", json={"filter": ALL, "MaxRecords": 5}).status_code == 200
        # one pooled connection served all five requests
        assert len(c._transport._pool.connections) == 1  # type: ignore[attr-defined]
