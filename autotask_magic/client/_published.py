"""The write-path rule: a request the published API does not offer is refused before it is sent.

    >>> check_published("POST", "Tasks")
    Traceback (most recent call last):
    ConfigurationError: the API has no POST /Tasks — create Tasks with POST /Projects/{id}/Tasks; nothing was sent

Judged against the packaged surface (``entities.api_surface``) by the path's shape:

    ENTITY                       GET list all · POST create · PATCH update · PUT replace
    ENTITY/query[/count|/next]   query · count
    ENTITY/entityInformation/…   metadata (GET)
    ENTITY/{id}                  GET get · DELETE delete
    PARENT/{id}/CHILD            GET list · POST create · PATCH update · PUT replace
    PARENT/{id}/CHILD/{id}       GET get · DELETE delete

An entity the surface does not know is never refused (tenants serve newer entities than the published
definition), nor is a path of another shape: the server answers those.
"""

from __future__ import annotations

from .._exceptions import ConfigurationError
from ..entities import ApiSurface, EntitySurface, api_surface

__all__ = ["check_published", "operation_paths"]

_VERBS = {
    "create": "create",
    "update_patch": "update",
    "update_put": "replace",
    "delete": "delete",
    "get": "get one of",
    "list": "list",
    "query": "query",
    "count": "count",
    "get_all": "list all",
    "metadata": "read the metadata of",
}
_TOP = {"get_all": "GET", "create": "POST", "update_patch": "PATCH", "update_put": "PUT"}
_ONE = {"GET": "get", "DELETE": "delete"}
_CHILD = {"GET": "list", "POST": "create", "PATCH": "update_patch", "PUT": "update_put"}


def check_published(method: str, path: str) -> None:
    """Raise ConfigurationError, naming the right path, when the API does not offer ``method path``."""
    method = method.upper()
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    surface = api_surface()
    ent = surface.lookup(parts[0]) if parts else None
    if ent is None:
        return
    judged = _operation(method, parts, ent)
    if judged is None:
        return
    target, operation, offered = judged
    if operation is None or operation in offered:
        return
    shown = "/" + "/".join(["{id}" if p.isdigit() else p for p in parts])
    elsewhere = operation_paths(target, operation, surface)
    if not elsewhere and operation in ("get_all", "list"):
        # GET /Tickets lists nothing on the API: reading them all is a query.
        operation, elsewhere = "query", operation_paths(target, "query", surface)
    if elsewhere:
        # No query, but the records can be listed (InvoicePDF, a child collection): say "list".
        verb = "list" if operation == "query" and not any("/query" in p for p in elsewhere) else _VERBS[operation]
        fix = f"{verb} {target} with " + " or ".join(elsewhere)
    else:
        fix = f"the API does not {_VERBS[operation]} {target} at all"
    raise ConfigurationError(f"the API has no {method} {shown} — {fix}; nothing was sent")


def _operation(method: str, parts: list[str], ent: EntitySurface) -> tuple[str, str | None, frozenset[str]] | None:
    """(entity the records are, operation the request needs, operations offered there), or None: not judged."""
    n = len(parts)
    if n == 1:
        return ent.name, {v: k for k, v in _TOP.items()}.get(method), ent.operations
    second = parts[1].lower()
    if second == "query" and n <= 3:
        needed = "count" if n == 3 and parts[2].lower() == "count" else "query"
        if n == 3 and parts[2].lower() not in ("count", "next"):
            return None
        return ent.name, needed if method in ("GET", "POST") else None, ent.operations
    if second == "entityinformation":
        return ent.name, "metadata" if method == "GET" else None, ent.operations
    if not _is_id(parts[1]):
        return None
    if n == 2:
        return ent.name, _ONE.get(method), ent.operations
    child = {seg.lower(): c for seg, c in ent.children.items()}.get(parts[2].lower())
    if child is None:
        known = api_surface().lookup(parts[2])
        if known is None or n > 4:
            return None
        # A real entity under a parent that does not hold it: judged as the entity's own operation.
        op = _CHILD.get(method) if n == 3 else _ONE.get(method)
        return known.name, op, frozenset()
    if n == 3:
        return child.entity, _CHILD.get(method), child.operations
    if n == 4 and _is_id(parts[3]):
        return child.entity, _ONE.get(method), child.operations
    return None


def _is_id(segment: str) -> bool:
    return segment.lstrip("-").isdigit() or segment == "{id}"


def operation_paths(entity: str, operation: str, surface: ApiSurface | None = None) -> list[str]:
    """Where the API offers ``operation`` on ``entity`` records, e.g. ``["POST /Projects/{id}/Tasks"]``."""
    surface = surface or api_surface()
    ent = surface.lookup(entity)
    out: list[str] = []
    if ent is not None and ent.allows(operation):
        out.append(_top_path(ent.name, operation))
    if ent is not None and operation == "query" and ent.allows("get_all"):
        out.append(_top_path(ent.name, "get_all"))
    for child in surface.child_paths(ent.name if ent is not None else entity):
        if operation in child.operations or (operation == "query" and "list" in child.operations):
            out.append(_child_path(child.path(), "list" if operation == "query" else operation))
    return list(dict.fromkeys(p for p in out if p))


def _top_path(name: str, operation: str) -> str:
    if operation in _TOP:
        return f"{_TOP[operation]} /{name}"
    return {
        "query": f"POST /{name}/query",
        "count": f"POST /{name}/query/count",
        "get": f"GET /{name}/{{id}}",
        "delete": f"DELETE /{name}/{{id}}",
        "metadata": f"GET /{name}/entityInformation/fields",
    }.get(operation, "")


def _child_path(collection: str, operation: str) -> str:
    if operation in _CHILD.values():
        method = next(m for m, op in _CHILD.items() if op == operation)
        return f"{method} /{collection}"
    if operation in ("get", "delete"):
        return f"{'GET' if operation == 'get' else 'DELETE'} /{collection}/{{id}}"
    return ""
