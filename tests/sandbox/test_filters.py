"""Every operator and and/or grouping, over real HTTP, against an independent Python reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import ALL, api_user_http, pull, ref_filter, search

OPS = [
    "eq",
    "noteq",
    "gt",
    "gte",
    "lt",
    "lte",
    "beginsWith",
    "endsWith",
    "contains",
    "exist",
    "notExist",
    "in",
    "notIn",
]
FIELDS = [
    "id",
    "title",
    "status",
    "priority",
    "companyID",
    "contactID",
    "assignedResourceID",
    "createDate",
    "completedDate",
    "estimatedHours",
    "ticketNumber",
    "description",
    "subIssueType",
]


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Sandbox, httpx.Client, list[dict[str, Any]]]]:
    # Read-only tests share one small sandbox; nothing here writes.
    with Sandbox(tickets=400, seed=7) as sb, api_user_http(sb) as client:
        yield sb, client, pull(client, "Tickets", {"filter": ALL})[0]


def _values(records: list[dict[str, Any]], field: str) -> list[Any]:
    vals = sorted({r[field] for r in records if r[field] is not None}, key=str)
    return vals[:: max(1, len(vals) // 40)]


_POOLS: dict[int, dict[str, list[Any]]] = {}


def _pools(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    # Small value pools: strategies must not capture the records (hypothesis reprs its arguments).
    if id(records) not in _POOLS:
        _POOLS[id(records)] = {f: _values(records, f) for f in FIELDS}
    return _POOLS[id(records)]


@st.composite
def leaf(draw: st.DrawFn, pools: dict[str, list[Any]]) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(OPS))
    node: dict[str, Any] = {"op": op, "field": draw(st.sampled_from([field, field.upper(), field.lower()]))}
    vals = pools[field]
    if op in ("exist", "notExist"):
        return node
    if op in ("in", "notIn"):
        node["value"] = draw(st.lists(st.sampled_from(vals), max_size=4))
    elif op in ("beginsWith", "endsWith", "contains"):
        v = str(draw(st.sampled_from(vals)))
        i = draw(st.integers(0, len(v)))
        j = draw(st.integers(i, len(v)))
        piece = v[:j] if op == "beginsWith" else v[i:] if op == "endsWith" else v[i:j]
        node["value"] = draw(st.sampled_from([piece, piece.upper(), piece.swapcase()]))
    else:
        v = draw(st.sampled_from(vals))
        if isinstance(v, str) and field not in ("createDate", "completedDate"):
            v = draw(st.sampled_from([v, v.upper(), v.lower()]))
        if field == "createDate" and draw(st.booleans()):
            v = v[:10]  # a bare date compares as midnight UTC
        node["value"] = v
    return node


def tree(pools: dict[str, list[Any]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    base = leaf(pools)
    nodes = st.recursive(
        base,
        lambda kids: st.builds(
            lambda op, items: {"op": op, "items": items},
            st.sampled_from(["and", "or"]),
            st.lists(kids, min_size=1, max_size=3),
        ),
        max_leaves=5,
    )
    return st.lists(nodes, min_size=1, max_size=3)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_filters_match_reference(shared: Any, data: st.DataObject) -> None:
    sb, client, records = shared
    flt = data.draw(tree(_pools(records)))
    expected = ref_filter(records, flt)
    got, _ = pull(client, "Tickets", {"filter": flt})
    assert [r["id"] for r in got] == expected
    assert [r["id"] for r in sb.ground_truth("Tickets", flt)] == expected
    count = client.post("Tickets/query/count", json={"filter": flt}).json()["queryCount"]
    assert count == len(expected)


@pytest.mark.parametrize("op", OPS)
def test_each_operator_on_each_type(shared: Any, op: str) -> None:
    sb, client, records = shared
    for field in ("title", "status", "createDate", "estimatedHours", "assignedResourceID"):
        vals = _values(records, field)
        for v in (vals[0], vals[len(vals) // 2]):
            node: dict[str, Any] = {"op": op, "field": field}
            if op in ("in", "notIn"):
                node["value"] = [v, vals[-1]]
            elif op not in ("exist", "notExist"):
                node["value"] = (
                    str(v)[:6] if op in ("beginsWith", "contains") else str(v)[-4:] if op == "endsWith" else v
                )
            got = [r["id"] for r in pull(client, "Tickets", {"filter": [node]})[0]]
            assert got == ref_filter(records, [node]), node


def test_case_insensitive_strings(shared: Any) -> None:
    _, client, records = shared
    title = records[0]["title"]
    for v in (title.upper(), title.lower()):
        got = pull(client, "Tickets", {"filter": [{"op": "eq", "field": "title", "value": v}]})[0]
        assert got and all(r["title"] == title for r in got)


def test_dates_compare_as_instants(shared: Any) -> None:
    _, client, records = shared
    cut = records[len(records) // 2]["createDate"]  # e.g. 2022-05-01T10:11:12.345Z
    offset = cut[:19] + "+02:00"  # two hours later than cut's wall time in UTC
    got = pull(client, "Tickets", {"filter": [{"op": "lt", "field": "createDate", "value": offset}]})[0]
    assert [r["id"] for r in got] == ref_filter(records, [{"op": "lt", "field": "createDate", "value": offset}])
    assert all(r["createDate"] < cut[:11] + "23:59:59.999Z" for r in got)


def test_unknown_operator_is_silently_ignored(shared: Any) -> None:
    _, client, records = shared
    flt = [{"op": "like", "field": "title", "value": "%x%"}, {"op": "eq", "field": "status", "value": 5}]
    got = pull(client, "Tickets", {"filter": flt})[0]
    assert [r["id"] for r in got] == [r["id"] for r in records if r["status"] == 5]
    only = pull(client, "Tickets", {"filter": [{"op": "startsWith", "field": "title", "value": "x"}]})[0]
    assert len(only) == len(records)


def test_eq_null_matches_nothing(shared: Any) -> None:
    _, client, _ = shared
    for op in ("eq", "noteq"):
        r = client.post("Tickets/query", json={"filter": [{"op": op, "field": "contactID", "value": None}]})
        assert r.status_code == 200 and r.json()["items"] == []


def test_udf_filters_and_one_udf_limit(shared: Any) -> None:
    sb, client, _ = shared
    companies = pull(client, "Companies", {"filter": ALL})[0]
    flt = [{"op": "eq", "field": "Contract Tier", "value": "gold", "udf": True}]
    got = pull(client, "Companies", {"filter": flt})[0]
    assert got and [r["id"] for r in got] == ref_filter(companies, flt)
    # Every record lists every UDF, nulls included (issue 13: the key is never dropped).
    assert all(
        [u["name"] for u in r["userDefinedFields"]] == ["Contract Tier", "Seats", "Onboarding Date"] for r in companies
    )
    assert any(all(u["value"] is None for u in r["userDefinedFields"]) for r in companies)
    two = flt + [{"op": "exist", "field": "Seats", "udf": True}]
    r = client.post("Companies/query", json={"filter": two})
    assert r.status_code == 500 and r.json()["errors"]


@pytest.mark.parametrize("body", [{}, {"filter": []}, {"IncludeFields": ["id"]}])
def test_query_without_filter_is_an_error(shared: Any, body: dict[str, Any]) -> None:
    _, client, _ = shared
    r = client.post("Tickets/query", json=body)
    assert r.status_code == 500 and isinstance(r.json()["errors"], list)


@pytest.mark.parametrize("mr,ok", [(0, False), (1, True), (500, True), (501, False), (-1, False)])
def test_max_records_range(shared: Any, mr: int, ok: bool) -> None:
    _, client, _ = shared
    r = client.post("Tickets/query", json={"filter": ALL, "MaxRecords": mr})
    if ok:
        assert r.status_code == 200 and len(r.json()["items"]) == min(mr, 400)
    else:
        assert r.status_code == 500 and r.json()["errors"]


def test_unknown_field_is_an_error(shared: Any) -> None:
    _, client, _ = shared
    r = client.post("Tickets/query", json={"filter": [{"op": "eq", "field": "nope", "value": 1}]})
    assert r.status_code == 500 and "nope" in r.json()["errors"][0]


def test_include_fields(shared: Any) -> None:
    _, client, records = shared
    r = client.post("Tickets/query", json={"filter": ALL, "IncludeFields": ["ID", "status", "Root Cause"]})
    items = r.json()["items"]
    assert all(set(i) <= {"id", "status", "userDefinedFields"} for i in items)
    assert [i["id"] for i in items] == [x["id"] for x in records[:500]]
    assert any("userDefinedFields" in i for i in items)


def test_get_search_equals_post(shared: Any) -> None:
    _, client, _ = shared
    body = {"filter": [{"op": "in", "field": "priority", "value": [1, 4]}]}
    assert (
        client.get("Tickets/query", params=search(body)).json()["items"]
        == client.post("Tickets/query", json=body).json()["items"]
    )
