"""The JSON body of ``POST {Entity}/query`` (shared by the client, chunked pulls and dry runs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..entities import MAX_PAGE_SIZE

__all__ = ["ALL_ROWS", "query_body"]

ALL_ROWS: list[dict[str, Any]] = [{"op": "gte", "field": "id", "value": 0}]


def query_body(
    filter: Sequence[dict[str, Any]] | None,
    fields: Sequence[str] | None,
    limit: int | None,
    page_size: int = MAX_PAGE_SIZE,
    *,
    parallel: bool = False,
) -> dict[str, Any]:
    """The JSON body of ``POST {Entity}/query`` exactly as the client sends it (also used by dry runs)."""
    body: dict[str, Any] = {"filter": list(filter) if filter else [dict(x) for x in ALL_ROWS]}
    if fields:
        # A UDF is asked for as "udf.<name>" (the column name); the server knows them only as one
        # "userDefinedFields" list, and the frame keeps the UDF columns asked for.
        include = list(dict.fromkeys("userDefinedFields" if f.startswith("udf.") else f for f in fields))
        # Autotask needs id in IncludeFields to page past the first page; partitions split and order by id.
        may_page = parallel or limit is None or limit > page_size
        if may_page and not any(f.lower() == "id" for f in include):
            include.insert(0, "id")
        body["IncludeFields"] = include
    body["MaxRecords"] = min(page_size, limit) if limit else page_size
    return body
