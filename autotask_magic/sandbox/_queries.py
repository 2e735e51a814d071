"""Query endpoints: ``/{entity}/query`` (GET with ``search`` or POST), ``/query/count`` and ``/query/next``.

Pages are cut from the sorted ids that match the filter; those id lists are cached per (entity,
filter, table version), so following ``nextPageUrl`` costs a bisect, not a new scan.
"""

from __future__ import annotations

import bisect
import json
from typing import Any
from urllib.parse import quote

from ._filters import FilterError, compile_filter, match_ids, parse_query
from ._request import Reply, Request, Target, dumps, errors, not_allowed
from ._schema import EntitySpec
from ._shape import renderer

__all__ = ["count_get", "count_post", "next_get", "next_other", "next_post", "query_get", "query_post"]

_CURSOR_CACHE = 32


def query_get(req: Request, target: Target) -> Reply:
    """``GET /{entity}/query?search=``."""
    params = req.params
    if "search" not in params:
        raise errors(500, "A query must have a search parameter with a filter.")
    return _page(req, target.entity, _parse_search(params["search"]), None, params["search"])


def query_post(req: Request, target: Target) -> Reply:
    """``POST /{entity}/query`` with the query body."""
    return _page(req, target.entity, req.json_body(), None, None)


def count_get(req: Request, target: Target) -> Reply:
    """``GET /{entity}/query/count?search=``."""
    return _count(req, target.entity, _parse_search(req.params.get("search", "")))


def count_post(req: Request, target: Target) -> Reply:
    """``POST /{entity}/query/count`` with the query body."""
    return _count(req, target.entity, req.json_body())


def next_get(req: Request, target: Target) -> Reply:
    """``GET /{entity}/query/next?paging=&search=``: a page after the first of a GET query."""
    params = req.params
    paging = _paging(params)
    if "search" not in params:
        # A cursor minted by a POST query must be followed with POST and the same body.
        raise not_allowed("GET")
    return _page(req, target.entity, _parse_search(params["search"]), paging, params["search"])


def next_post(req: Request, target: Target) -> Reply:
    """``POST /{entity}/query/next?paging=`` with the query body (or ``search``)."""
    params = req.params
    paging = _paging(params)
    body = req.json_body()
    if body is None and "search" in params:
        body = _parse_search(params["search"])
    return _page(req, target.entity, body, paging, None)


def next_other(req: Request, target: Target) -> Reply:
    """Any other method on ``/query/next``: the paging parameter is checked first, as the server does."""
    _paging(req.params)
    raise not_allowed(req.method)


def _paging(params: dict[str, str]) -> str:
    paging = params.get("paging")
    if not paging:
        raise errors(500, "The paging parameter is missing.")
    return paging


def _parse_search(search: str) -> Any:
    if not search:
        raise errors(500, "A query must have a search parameter with a filter.")
    try:
        return json.loads(search)
    except ValueError:
        raise errors(500, "The search parameter is not valid JSON.") from None


def _count(req: Request, spec: EntitySpec, body: Any) -> Reply:
    return Reply(200, {"queryCount": len(_matching(req, spec, body)[0])})


def _matching(req: Request, spec: EntitySpec, body: Any) -> tuple[list[int], Any]:
    """The sorted ids matching the query body's filter (cached), and the parsed query."""
    try:
        q = parse_query(body)
        table = req.sandbox.store[spec.name]
        key = (spec.name, dumps(q.filter), table.version, id(table))
        shared = req.shared
        with shared.cursor_lock:
            ids = shared.cursors.get(key)
            if ids is not None:
                shared.cursors.move_to_end(key)
        if ids is None:
            ids = match_ids(table, compile_filter(spec, q.filter))
            with shared.cursor_lock:
                shared.cursors[key] = ids
                while len(shared.cursors) > _CURSOR_CACHE:
                    shared.cursors.popitem(last=False)
        return ids, q
    except FilterError as e:
        raise errors(500, str(e)) from None


def _page(req: Request, spec: EntitySpec, body: Any, paging: str | None, search: str | None) -> Reply:
    ids, q = _matching(req, spec, body)
    size = q.max_records
    start = 0
    if paging is not None:
        try:
            pg = json.loads(paging)
            next_id = int(pg["nextIds"][0])
            size = int(pg.get("pageSize", size))
        except (ValueError, KeyError, IndexError, TypeError):
            raise errors(500, "The paging parameter is not valid.") from None
        start = bisect.bisect_left(ids, next_id)
    page_ids = ids[start : start + size]
    table = req.sandbox.store[spec.name]
    include = frozenset(x.lower() for x in q.include_fields) if q.include_fields else None
    render = renderer(spec, include)
    items = [render(table[i]) for i in page_ids if i in table]
    next_url = prev_url = None
    if start + size < len(ids):
        # The first page's cursor says "no previous page" with -1, as the real API's does.
        first = page_ids[0] if start > 0 else -1
        next_url = _page_url(req, spec, size, first, ids[start + size], search)
    if start > 0:
        prev_start = max(0, start - size)
        prev_url = _page_url(req, spec, size, ids[prev_start], ids[prev_start], search)
    return Reply(
        200,
        {
            "items": items,
            "pageDetails": {
                "count": len(items),
                "requestCount": size,
                "prevPageUrl": prev_url,
                "nextPageUrl": next_url,
            },
        },
    )


def _page_url(req: Request, spec: EntitySpec, size: int, first: int, next_id: int, search: str | None) -> str:
    sb = req.sandbox
    root = (sb.faults.next_page_url_override or sb.root_url).rstrip("/")
    paging = dumps({"pageSize": size, "previousIds": [first], "nextIds": [next_id]})
    url = f"{root}/ATServicesRest/V1.0/{spec.name}/query/next?paging={quote(paging, safe='')}"
    if search is not None:
        url += "&search=" + quote(search, safe="")
    return url
