"""The routing table: which function answers which method and path.

    /ATServicesRest/oauth/token                 -> _auth.token_endpoint
    /ATServicesRest/V1.0/zoneInformation        -> _auth.zone_information
    /ATServicesRest/V1.0/<ROUTES>               -> admission (_admission.admit), then the table below

A path is matched segment by segment (case-insensitive literals; ``{entity}``, ``{id}``, ``{child}`` and
``{child_id}`` are resolved and checked in that order, each with its own 404; ``{...}`` matches the
rest). The first route whose shape fits wins, so a literal like ``query`` must come before ``{id}``.
A method the route does not list goes to its ``other`` handler, else 405. Each method also names the
published operation it needs (``POST {entity}`` needs ``create``): when the entity (or child path)
does not publish it, the answer is 405 if the path publishes some other method, else 404 (``POST
/Tasks`` is "Not Found": Tasks are created under ``Projects/{id}/Tasks``). The order of those checks
copies the real API's, down to which error a malformed request gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from . import _entity_info as meta
from . import _queries as queries
from . import _records as records
from ._admission import admit, threshold_information
from ._auth import token_endpoint, zone_information
from ._request import Reply, Request, Target, errors, no_resource, not_allowed
from ._schema import SCHEMAS, lookup_entity
from ._state import Store

__all__ = ["ROUTES", "Route", "dispatch", "match"]

Handler = Callable[[Request, Target], Reply]

_TOKEN_PATH = "/atservicesrest/oauth/token"
_ZONE_PREFIX = "/atservicesrest/v1.0/zoneinformation"
_API_PREFIX = "/atservicesrest/v1.0/"


def _method_not_allowed(req: Request, target: Target) -> Reply:
    """405: the path exists but not with this method."""
    raise not_allowed(req.method)


def _no_such_resource(req: Request, target: Target) -> Reply:
    """404 for a sub-path the API does not have."""
    raise errors(404, "No such resource.")


def _child_not_found(req: Request, target: Target) -> Reply:
    """404 for anything below a child record."""
    raise _child_missing(target, target.child_id)


@dataclass(frozen=True)
class Route:
    """A path pattern and the handler of each method it accepts."""

    pattern: tuple[str, ...]
    methods: Mapping[str, Handler]
    other: Handler = _method_not_allowed  # any method not in ``methods``
    needs: Mapping[str, str] | None = None  # method -> the published operation it needs

    def fits(self, parts: list[str]) -> bool:
        """True when ``parts`` has this route's shape (literals compared case-insensitively)."""
        pattern = self.pattern
        if pattern[-1] == "{...}":
            if len(parts) < len(pattern):
                return False
        elif len(parts) != len(pattern):
            return False
        return all(seg[0] == "{" or seg.lower() == part.lower() for seg, part in zip(pattern, parts))

    def handler(self, method: str, target: Target, url: str) -> Handler:
        """The function answering ``method`` on this route for ``target`` (a 404/405 Reply if unpublished)."""
        if self.needs is not None:
            published = {m for m, op in self.needs.items() if _publishes(target, op)}
            if method not in published:
                if not published:
                    raise no_resource(url)
                if method in self.methods:
                    raise not_allowed(method)
        return self.methods.get(method, self.other)


def _publishes(target: Target, operation: str) -> bool:
    if target.path is not None:
        return operation in target.path.operations
    return target.entity.allows(operation)


def route(
    pattern: str, *, other: Handler = _method_not_allowed, needs: Mapping[str, str] | None = None, **methods: Handler
) -> Route:
    """``route("{entity}/query", GET=..., POST=..., needs={"GET": "query", "POST": "query"})``."""
    return Route(tuple(pattern.split("/")), methods, other, needs)


def _on(operation: str, *methods: str) -> dict[str, str]:
    return dict.fromkeys(methods, operation)


# The writes on a collection path (top level or under a parent) and the operations they need.
_WRITES = {"POST": "create", "PATCH": "update_patch", "PUT": "update_put"}


ROUTES: tuple[Route, ...] = (
    route("ThresholdInformation", GET=threshold_information),
    route(
        "{entity}",
        GET=records.get_all,
        POST=records.create,
        PATCH=records.update,
        PUT=records.replace,
        needs={"GET": "get_all", **_WRITES},
    ),
    route("{entity}/query", GET=queries.query_get, POST=queries.query_post, needs=_on("query", "GET", "POST")),
    route("{entity}/query/count", GET=queries.count_get, POST=queries.count_post, needs=_on("count", "GET", "POST")),
    route(
        "{entity}/query/next",
        GET=queries.next_get,
        POST=queries.next_post,
        other=queries.next_other,
        needs=_on("query", "GET", "POST"),
    ),
    route("{entity}/query/{...}", other=_no_such_resource),
    route("{entity}/entityInformation", GET=meta.entity_information, needs=_on("metadata", "GET")),
    route("{entity}/entityInformation/fields", GET=meta.field_information, needs=_on("metadata", "GET")),
    route("{entity}/entityInformation/userDefinedFields", GET=meta.udf_information, needs=_on("metadata", "GET")),
    route("{entity}/entityInformation/{...}", GET=_no_such_resource),
    route("{entity}/{id}", GET=records.get, DELETE=records.delete, needs={"GET": "get", "DELETE": "delete"}),
    route(
        "{entity}/{id}/{child}",
        GET=records.children,
        POST=records.create_child,
        PATCH=records.update_child,
        PUT=records.replace_child,
        needs={"GET": "list", **_WRITES},
    ),
    route(
        "{entity}/{id}/{child}/{child_id}",
        GET=records.get_child,
        DELETE=records.delete_child,
        needs={"GET": "get", "DELETE": "delete"},
    ),
    route("{entity}/{id}/{child}/{child_id}/{...}", other=_child_not_found),
)


def dispatch(req: Request, raw_path: str) -> None:
    """Answer one request through ``req.send``; raises ``Reply`` (an error answer) or ``Drop``."""
    path = unquote(raw_path)
    low = path.lower()
    if low.rstrip("/") == _TOKEN_PATH:
        req.send(token_endpoint(req))
    elif low.startswith(_ZONE_PREFIX):
        req.send(zone_information(req))
    elif low.startswith(_API_PREFIX):
        _api(req, path[len(_API_PREFIX) :].strip("/"))
    else:
        raise errors(404, f"No such resource: {raw_path}")


def _api(req: Request, rest: str) -> None:
    parts = [p for p in rest.split("/") if p]
    endpoint = req.method + " /" + "/".join(_template(parts))
    req.sandbox.stats.count_api(endpoint)
    try:
        admit(req, endpoint)
        found, target = match(parts, req.sandbox.store)
        _check_served(req.sandbox.hidden_entities, parts, target)
        # Sent inside the slot: the request counts as in flight until its response goes out.
        url = req.sandbox.root_url + req.path
        req.send(found.handler(req.method, target, url)(req, target))
    finally:
        req.release_slot()


def match(parts: list[str], store: Store) -> tuple[Route, Target]:
    """The first route that fits ``parts`` and what its placeholders name (or a 404 Reply)."""
    for candidate in ROUTES:
        if candidate.fits(parts):
            target = Target()
            for seg, part in zip(candidate.pattern, parts):
                resolve = _RESOLVERS.get(seg)
                if resolve is not None:
                    resolve(target, part, store)
            return candidate, target
    raise errors(404, "No such resource.")


def _check_served(hidden: frozenset[str], parts: list[str], target: Target) -> None:
    """A withheld entity (``Sandbox.hidden_entities``) answers as one the server does not know."""
    if not hidden:
        return
    spec = target.spec
    if spec is not None and spec.name in hidden:
        raise errors(404, f"Entity '{parts[0]}' does not exist.")
    if target.path is not None and target.path.entity in hidden:
        raise errors(404, f"'{parts[2]}' is not a child collection of {target.entity.singular}.")


def _entity(target: Target, part: str, store: Store) -> None:
    name = lookup_entity(part)
    if name is None:
        raise errors(404, f"Entity '{part}' does not exist.")
    target.spec = SCHEMAS[name]


def _id(target: Target, part: str, store: Store) -> None:
    try:
        target.id = int(part)
    except ValueError:
        raise errors(404, f"No such resource: {part}") from None


def _child(target: Target, part: str, store: Store) -> None:
    spec = target.entity
    path = spec.children.get(part.lower())
    if path is None:
        raise errors(404, f"'{part}' is not a child collection of {spec.name}.")
    target.child = SCHEMAS[path.entity]
    target.parent_field = path.parent_field
    target.path = path
    if target.rid not in store[spec.name]:
        raise errors(404, f"{spec.singular} with id {target.rid} was not found.")


def _child_id(target: Target, part: str, store: Store) -> None:
    try:
        cid = int(part)
    except ValueError:
        raise errors(404, f"No such resource: {part}") from None
    target.child_id = cid
    rec = store[target.child_entity.name].get(cid)
    if rec is None or rec.get(target.parent_field) != target.rid:
        raise _child_missing(target, cid)
    target.record = rec


def _child_missing(target: Target, cid: int | None) -> Reply:
    return errors(
        404, f"{target.child_entity.singular} with id {cid} was not found under {target.entity.singular} {target.rid}."
    )


_RESOLVERS: dict[str, Callable[[Target, str, Store], None]] = {
    "{entity}": _entity,
    "{id}": _id,
    "{child}": _child,
    "{child_id}": _child_id,
}


def _template(parts: list[str]) -> list[str]:
    """Path segments as a stats endpoint template: ids become ``{id}``, entity and child names are canonical."""
    out = []
    spec = SCHEMAS.get(lookup_entity(parts[0]) or "") if parts else None
    for i, p in enumerate(parts):
        if p.lstrip("-").isdigit():
            out.append("{id}")
        elif i == 0 and spec is not None:
            out.append(spec.name)
        elif i == 2 and spec is not None and p.lower() in spec.children:
            out.append(spec.children[p.lower()].segment)
        else:
            out.append(p)
    return out
