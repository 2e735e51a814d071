"""For the sandbox's own tests: raw httpx clients, POST paging and an independent filter reference."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from autotask_magic.sandbox import Sandbox

ALL = [{"op": "gte", "field": "id", "value": 0}]


def api_user_http(sb: Sandbox, **kw: Any) -> httpx.Client:
    """An httpx client authenticating with API-user headers against the sandbox's base URL."""
    return httpx.Client(base_url=sb.base_url, headers=sb.api_user_headers(), timeout=30, **kw)


def get_token(sb: Sandbox) -> str:
    """A bearer token from the sandbox's OAuth endpoint (client credentials)."""
    r = httpx.post(
        sb.token_url,
        data={"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def oauth_http(sb: Sandbox, **kw: Any) -> httpx.Client:
    """An httpx client with a fresh bearer token from the sandbox's OAuth endpoint."""
    return httpx.Client(base_url=sb.base_url, headers={"Authorization": "Bearer " + get_token(sb)}, timeout=30, **kw)


def pull(client: httpx.Client, entity: str, body: dict[str, Any], max_pages: int = 1000) -> tuple[list[dict], int]:
    """Follow POST paging to the end; returns (records, pages)."""
    r = client.post(f"{entity}/query", json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    items, pages = list(data["items"]), 1
    while data["pageDetails"]["nextPageUrl"] and pages < max_pages:
        r = client.post(data["pageDetails"]["nextPageUrl"], json=body)
        assert r.status_code == 200, r.text
        data = r.json()
        items += data["items"]
        pages += 1
    return items, pages


# -- reference semantics (deliberately written differently from _filters.py) ------------------------


def _udf_value(rec: dict[str, Any], name: str) -> Any:
    for u in rec.get("userDefinedFields", []):
        if u["name"].lower() == name.lower():
            return u["value"]
    return None


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        try:
            if len(v) >= 10 and v[4] == "-" and v[7] == "-":
                d = datetime.fromisoformat(v.replace("Z", "+00:00"))
                if d.tzinfo is None:
                    d = d.replace(tzinfo=UTC)
                return ("date", d.astimezone(UTC).replace(microsecond=d.microsecond // 1000 * 1000))
        except ValueError:
            pass
        return ("str", v.casefold())
    if isinstance(v, bool):
        return ("num", int(v))
    return ("num", v)


def ref_match(rec: dict[str, Any], node: dict[str, Any]) -> bool | None:
    """True/False, or None when the node is ignored (unknown operator, empty group)."""
    op = node["op"].lower()
    if op in ("and", "or"):
        results = [x for x in (ref_match(rec, n) for n in node.get("items", [])) if x is not None]
        if not results:
            return None
        return all(results) if op == "and" else any(results)
    if op not in {
        "eq",
        "noteq",
        "gt",
        "gte",
        "lt",
        "lte",
        "beginswith",
        "endswith",
        "contains",
        "exist",
        "notexist",
        "in",
        "notin",
    }:
        return None
    key = next(k for k in rec if k.lower() == node["field"].lower()) if not node.get("udf") else None
    field = _udf_value(rec, node["field"]) if node.get("udf") else rec.get(key)  # type: ignore[arg-type]
    if op == "exist":
        return field not in (None, "")
    if op == "notexist":
        return field in (None, "")
    value = node.get("value")
    if value is None or field is None:
        return False
    if op in ("beginswith", "endswith", "contains"):
        f, v = str(field).casefold(), str(value).casefold()
        return {"beginswith": f.startswith, "endswith": f.endswith, "contains": f.__contains__}[op](v)
    if op in ("in", "notin"):
        hit = any(_norm(field) == _norm(v) for v in value)
        return hit if op == "in" else not hit
    a, b = _norm(field), _norm(value)
    if op == "eq":
        return a == b
    if op == "noteq":
        return a != b
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def ref_filter(records: list[dict[str, Any]], flt: list[dict[str, Any]]) -> list[int]:
    out = []
    for rec in records:
        got = ref_match(rec, {"op": "and", "items": flt})
        if got is None or got:
            out.append(rec["id"])
    return sorted(out)


def search(body: dict[str, Any]) -> dict[str, str]:
    return {"search": json.dumps(body)}


def cli_banner(proc: Any, timeout: float = 60) -> list[str]:
    """The lines ``python -m autotask_magic.sandbox`` prints before "Press Ctrl-C" (read from ``proc.stdout``)."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            break
    return lines
