"""Walk the whole published surface against the sandbox: every entity, every child path, refusals.

One keep-alive client and a small sandbox keep the ~1,000 requests quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from autotask_magic.entities import api_surface
from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import ALL, api_user_http

# Entities whose records never carry the key although the model lists it (recorded live answers).
NO_UDF_KEY = {"TimeEntries", "Resources"}
# The write each refusal check tries: (operation, method, path template).
REFUSALS = (
    ("create", "POST", "{e}"),
    ("delete", "DELETE", "{e}/1"),
    ("update_patch", "PATCH", "{e}"),
    ("query", "POST", "{e}/query"),
)


@pytest.fixture(scope="module")
def walk() -> Iterator[tuple[Sandbox, httpx.Client]]:
    with Sandbox(tickets=60) as sb, api_user_http(sb) as client:
        yield sb, client


def _published(entity: str) -> set[str]:
    return set(api_surface()[entity].fields) - {"userDefinedFields"}


def _check_item(entity: str, item: dict[str, Any]) -> None:
    missing = _published(entity) - set(item)
    assert not missing, (entity, sorted(missing)[:5])
    has_key = "userDefinedFields" in item
    assert has_key == (api_surface()[entity].has_udfs and entity not in NO_UDF_KEY), entity
    if has_key:
        assert isinstance(item["userDefinedFields"], list)


@pytest.mark.parametrize("entity", sorted(api_surface()))
def test_every_entity(walk: tuple[Sandbox, httpx.Client], entity: str) -> None:
    sb, c = walk
    ent = api_surface()[entity]
    ops = ent.operations
    if "query" in ops:
        r = c.post(f"{entity}/query", json={"filter": ALL, "MaxRecords": 3})
        assert r.status_code == 200, (entity, r.text)
        items = r.json()["items"]
        assert items, entity  # every queryable entity has some seeded records
        for item in items:
            _check_item(entity, item)
        if "get" in ops:
            got = c.get(f"{entity}/{items[0]['id']}").json()["item"]
            assert got == items[0], entity
    if "count" in ops:
        r = c.post(f"{entity}/query/count", json={"filter": ALL})
        assert r.status_code == 200 and r.json()["queryCount"] >= 1, (entity, r.text)
    if "metadata" in ops:
        info = c.get(f"{entity}/entityInformation").json()["info"]
        assert info["canQuery"] == ("query" in ops), entity
        fields = c.get(f"{entity}/entityInformation/fields").json()["fields"]
        names = {f["name"] for f in fields}
        assert _published(entity) <= names, (entity, sorted(_published(entity) - names)[:5])
        assert all(f["isReadOnly"] for f in fields if f["name"] == "id"), entity
        udfs = c.get(f"{entity}/entityInformation/userDefinedFields")
        assert udfs.status_code == 200 and isinstance(udfs.json()["fields"], list), entity
    for op, method, path in REFUSALS:
        if op not in ops:
            r = c.request(method, path.format(e=entity), json={})
            assert r.status_code in (404, 405) and "Message" in r.json(), (entity, method, r.status_code, r.text)
            break


def _child_paths() -> list[tuple[str, str]]:
    return sorted((parent, seg) for parent, ent in api_surface().items() for seg in ent.children)


@pytest.mark.parametrize(("parent", "segment"), _child_paths())
def test_every_child_path(walk: tuple[Sandbox, httpx.Client], parent: str, segment: str) -> None:
    sb, c = walk
    child = api_surface()[parent].children[segment]
    pid = sb.store[parent].ids[0]
    r = c.get(f"{parent}/{pid}/{segment}")
    if "list" not in child.operations:
        assert r.status_code in (404, 405) and "Message" in r.json(), (parent, segment, r.text)
        return
    assert r.status_code == 200, (parent, segment, r.text)
    items = r.json()["items"]
    assert items, (parent, segment)  # the first parent always has children
    for item in items:
        _check_item(child.entity, item)
    if "get" in child.operations:
        one = c.get(f"{parent}/{pid}/{segment}/{items[0]['id']}")
        assert one.status_code == 200 and one.json()["item"] == items[0], (parent, segment)
    other = sb.store[parent].ids[-1] + 1000
    assert c.get(f"{parent}/{other}/{segment}").status_code == 404  # a missing parent


def test_walk_covers_the_whole_surface() -> None:
    surface = api_surface()
    assert len(surface) == 167 and surface.child_path_count == 85 == len(_child_paths())
