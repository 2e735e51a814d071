"""What an analyst would write by hand, and the floor: the baselines every benchmark row is divided by.

``handwritten_pull`` is the loop from a typical blog post done right: POST the query, follow
``nextPageUrl`` by POSTing the same body (a GET there answers 405), then ``pd.json_normalize``,
UDFs flattened by hand and ``pd.to_datetime`` per date column. ``byte_floor`` downloads the very
same pages and parses nothing: no client can be faster than that over the same server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
import pandas as pd

__all__ = ["ALL_ROWS", "byte_floor", "handwritten_frame", "handwritten_pull", "handwritten_records"]

ALL_ROWS: list[dict[str, Any]] = [{"op": "gte", "field": "id", "value": 0}]

# nextPageUrl is found in the raw bytes so the floor never runs a JSON parser over the page.
_NEXT = re.compile(rb'"nextPageUrl"\s*:\s*("(?:[^"\\]|\\.)*"|null)')


def handwritten_records(
    client: httpx.Client, base_url: str, entity: str, body: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """POST the query and every next page; return (records, requests used)."""
    body = body or {"filter": ALL_ROWS}
    resp = client.post(f"{base_url}{entity}/query", json=body)
    resp.raise_for_status()
    data = resp.json()
    items: list[dict[str, Any]] = list(data["items"])
    requests = 1
    while (next_url := data["pageDetails"].get("nextPageUrl")) is not None:
        resp = client.post(next_url, json=body)
        resp.raise_for_status()
        data = resp.json()
        items.extend(data["items"])
        requests += 1
    return items, requests


def handwritten_frame(records: Sequence[dict[str, Any]], date_columns: Iterable[str]) -> pd.DataFrame:
    """``pd.json_normalize`` + UDFs flattened by hand + ``pd.to_datetime`` per date column."""
    df = pd.json_normalize(list(records))
    if "userDefinedFields" in df.columns:
        udfs = df.pop("userDefinedFields")
        flat = pd.DataFrame(
            [{f"udf.{u['name']}": u["value"] for u in row} if isinstance(row, list) else {} for row in udfs],
            index=df.index,
        )
        df = df.join(flat)
    for col in date_columns:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df


def handwritten_pull(
    base_url: str, headers: dict[str, str], entity: str, date_columns: Iterable[str]
) -> tuple[pd.DataFrame, int]:
    """The whole hand-written path: pull every page, then build the DataFrame."""
    with httpx.Client(headers=headers, timeout=120.0) as client:
        records, requests = handwritten_records(client, base_url, entity)
    return handwritten_frame(records, date_columns), requests


def byte_floor(base_url: str, headers: dict[str, str], entity: str) -> tuple[int, int]:
    """Download the same pages' bytes with no parsing; return (bytes, requests)."""
    body = {"filter": ALL_ROWS}
    total = 0
    requests = 0
    with httpx.Client(headers=headers, timeout=120.0) as client:
        url: str | None = f"{base_url}{entity}/query"
        while url is not None:
            resp = client.post(url, json=body)
            resp.raise_for_status()
            content = resp.content
            total += len(content)
            requests += 1
            m = _NEXT.search(content)
            url = None if m is None or m.group(1) == b"null" else json.loads(m.group(1))
    return total, requests
