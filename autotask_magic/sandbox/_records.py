"""Record endpoints: get, create (POST), update (PATCH), replace (PUT) and delete, top-level and as children.

Writes check what the real API checks (required fields, picklist values, references to existing
records, read-only fields ignored), replace records rather than mutate them (a concurrent reader may
be serialising the old one) and are remembered in ``stats.writes``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ._filters import FilterError, coerce, normalize_date
from ._request import Drop, Reply, Request, Target, errors
from ._schema import EntitySpec
from ._shape import renderer

__all__ = [
    "children",
    "create",
    "create_child",
    "delete",
    "delete_child",
    "get",
    "get_all",
    "get_child",
    "replace",
    "replace_child",
    "update",
    "update_child",
]


# -- /{entity} and /{entity}/{id} ------------------------------------------------------------------


def create(req: Request, target: Target) -> Reply:
    """``POST /{entity}``."""
    return _create(req, target.entity, req.json_body())


def update(req: Request, target: Target) -> Reply:
    """``PATCH /{entity}``: the body's ``id`` names the record."""
    return _update(req, target.entity, req.json_body(), replace=False)


def replace(req: Request, target: Target) -> Reply:
    """``PUT /{entity}``: like PATCH, but fields left out become empty."""
    return _update(req, target.entity, req.json_body(), replace=True)


def get(req: Request, target: Target) -> Reply:
    """``GET /{entity}/{id}``."""
    spec = target.entity
    rec = req.sandbox.store[spec.name].get(target.rid)
    # A missing id is not an error on the real API: HTTP 200 with a null item.
    return Reply(200, {"item": None if rec is None else renderer(spec)(rec)})


def get_all(req: Request, target: Target) -> Reply:
    """``GET /{entity}`` (the few entities that publish it, e.g. InvoicePDF): every record, one page."""
    spec = target.entity
    table = req.sandbox.store[spec.name]
    return Reply(200, _one_page([renderer(spec)(table[i]) for i in table.ids]))


def delete(req: Request, target: Target) -> Reply:
    """``DELETE /{entity}/{id}``."""
    return _delete(req, target.entity, target.rid)


# -- /{entity}/{id}/{child}[/{child_id}] -------------------------------------------------------------


def children(req: Request, target: Target) -> Reply:
    """``GET /{entity}/{id}/{child}``: every child of the record, in one page."""
    spec = target.child_entity
    table = req.sandbox.store[spec.name]
    render = renderer(spec)
    items = [render(r) for r in table.values() if r.get(target.parent_field) == target.rid]
    items.sort(key=lambda r: r["id"])
    return Reply(200, _one_page(items))


def _one_page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "pageDetails": {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None},
    }


def create_child(req: Request, target: Target) -> Reply:
    """``POST /{entity}/{id}/{child}``: the parent id comes from the path."""
    return _create(req, target.child_entity, _with_parent(req.json_body(), target))


def update_child(req: Request, target: Target) -> Reply:
    """``PATCH /{entity}/{id}/{child}``."""
    return _update(req, target.child_entity, _with_parent(req.json_body(), target), replace=False)


def replace_child(req: Request, target: Target) -> Reply:
    """``PUT /{entity}/{id}/{child}``."""
    return _update(req, target.child_entity, _with_parent(req.json_body(), target), replace=True)


def get_child(req: Request, target: Target) -> Reply:
    """``GET /{entity}/{id}/{child}/{child_id}`` (the router has checked that it belongs to the parent)."""
    assert target.record is not None
    return Reply(200, {"item": renderer(target.child_entity)(target.record)})


def delete_child(req: Request, target: Target) -> Reply:
    """``DELETE /{entity}/{id}/{child}/{child_id}``."""
    assert target.child_id is not None
    return _delete(req, target.child_entity, target.child_id)


def _with_parent(body: Any, target: Target) -> Any:
    return {**body, target.parent_field: target.rid} if isinstance(body, dict) else body


# -- the writes ----------------------------------------------------------------------------------


def _create(req: Request, spec: EntitySpec, body: Any) -> Reply:
    sb = req.sandbox
    if not spec.can_create:
        raise errors(500, f"{spec.singular} entities cannot be created through the API.")
    if not isinstance(body, dict):
        raise errors(500, "The request body must be a JSON object.")
    fields = _clean(req, spec, body, replace=True, existing=None)
    missing = [fd.name for fd in spec.fields if fd.required and not fd.read_only and fields.get(fd.name) is None]
    if missing:
        raise errors(500, *(f"Missing Required Field: {n}" for n in missing))
    now = _now()
    with req.shared.write_lock:
        table = sb.store[spec.name]
        rid = table.next_id()
        fault = sb.faults.write_fault(rid, body)
        _inject_error(req, fault, spec, rid)
        rec: dict[str, Any] = {fd.name: fields.get(fd.name) for fd in spec.fields}
        rec["id"] = rid
        for fd in spec.fields:
            if fd.read_only and fd.data_type == "datetime":
                rec[fd.name] = now
        if "ticketNumber" in rec:
            rec["ticketNumber"] = f"T{now[:4]}{now[5:7]}{now[8:10]}.{rid % 10000:04d}"
        if "projectNumber" in rec:
            rec["projectNumber"] = f"P{20190000 + rid}"
        _set_udfs(rec, fields.get("userDefinedFields"))
        table[rid] = rec
    sb.stats.record_write("POST", spec.name, rid, body)
    _inject_drop(req, fault)
    return Reply(200, {"itemId": rid})


def _update(req: Request, spec: EntitySpec, body: Any, *, replace: bool) -> Reply:
    sb = req.sandbox
    if not spec.can_update:
        raise errors(500, f"{spec.singular} entities cannot be updated through the API.")
    if not isinstance(body, dict):
        raise errors(500, "The request body must be a JSON object.")
    raw_id = next((v for k, v in body.items() if k.lower() == "id"), None)
    try:
        rid = int(raw_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise errors(500, "Missing Required Field: id") from None
    with req.shared.write_lock:
        table = sb.store[spec.name]
        old = table.get(rid)
        if old is None:
            raise errors(404, f"{spec.singular} with id {rid} was not found.")
        fault = sb.faults.write_fault(rid)
        _inject_error(req, fault, spec, rid)
        fields = _clean(req, spec, body, replace=replace, existing=old)
        if replace:
            rec = {fd.name: (old.get(fd.name) if fd.read_only else fields.get(fd.name)) for fd in spec.fields}
            missing = [fd.name for fd in spec.fields if fd.required and not fd.read_only and rec.get(fd.name) is None]
            if missing:
                raise errors(500, *(f"Missing Required Field: {n}" for n in missing))
        else:
            rec = {**old, **{k: v for k, v in fields.items() if k != "userDefinedFields"}}
        if "userDefinedFields" in fields:
            _set_udfs(rec, fields["userDefinedFields"])
        elif replace:
            rec.pop("userDefinedFields", None)
        for name in ("lastActivityDate", "lastModifiedDate", "lastModifiedDateTime"):
            if name in rec:
                rec[name] = _now()
        # Replace, never mutate: a concurrent reader may be serialising the old record.
        table[rid] = rec
    sb.stats.record_write("PUT" if replace else "PATCH", spec.name, rid, body)
    _inject_drop(req, fault)
    return Reply(200, {"itemId": rid})


def _delete(req: Request, spec: EntitySpec, rid: int) -> Reply:
    sb = req.sandbox
    if not spec.can_delete:
        raise errors(500, f"{spec.singular} entities cannot be deleted through the API.")
    with req.shared.write_lock:
        table = sb.store[spec.name]
        if rid not in table:
            raise errors(404, f"{spec.singular} with id {rid} was not found.")
        fault = sb.faults.write_fault(rid)
        _inject_error(req, fault, spec, rid)
        del table[rid]
    sb.stats.record_write("DELETE", spec.name, rid, None)
    _inject_drop(req, fault)
    return Reply(200, {"itemId": rid})


def _inject_error(req: Request, fault: str | None, spec: EntitySpec, rid: int) -> None:
    """An injected HTTP 500 for this write (``faults.write_errors``): nothing is applied."""
    if fault == "error":
        req.sandbox.stats.count_fault("write_error")
        raise errors(500, f"{spec.singular} {rid} could not be saved (injected).")


def _inject_drop(req: Request, fault: str | None) -> None:
    """The write was applied; with ``faults.write_drops`` no answer goes out, so its outcome is unknown."""
    if fault == "drop":
        req.sandbox.stats.count_fault("drop_after_write")
        raise Drop()


def _clean(
    req: Request, spec: EntitySpec, body: dict[str, Any], *, replace: bool, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """The writable fields of ``body``, coerced and checked; UDFs merged with ``existing`` unless replacing."""
    store = req.sandbox.store
    out: dict[str, Any] = {}
    try:
        for k, raw in body.items():
            fd = spec.by_lower.get(k.lower())
            if fd is None or fd.read_only:
                continue
            v = coerce(fd, raw)
            # The real API words a bad picklist value and a dangling reference alike (trailing " . " included).
            if v is not None and fd.picklist is not None and v not in {p for p, _ in fd.picklist}:
                raise FilterError(f"Value does not reference an existing entity for {fd.name} . ")
            if v is not None and fd.reference and v not in store[fd.reference]:
                raise FilterError(f"Value does not reference an existing entity for {fd.name} . ")
            out[fd.name] = v
    except FilterError as e:
        raise errors(500, str(e)) from None
    udf_in = body.get("userDefinedFields")
    if isinstance(udf_in, list) and spec.udfs:
        current = {u["name"]: u["value"] for u in (existing or {}).get("userDefinedFields") or []}
        if replace:
            current = {}
        for u in udf_in:
            if isinstance(u, dict):
                fd = spec.udf_by_lower.get(str(u.get("name", "")).lower())
                if fd is not None:
                    try:
                        current[fd.name] = coerce(fd, u.get("value"))
                    except FilterError as e:
                        raise errors(500, str(e)) from None
        out["userDefinedFields"] = [{"name": fd.name, "value": current.get(fd.name)} for fd in spec.udfs]
    return out


def _set_udfs(rec: dict[str, Any], udfs: list[dict[str, Any]] | None) -> None:
    if udfs is None:
        return
    if any(u["value"] is not None for u in udfs):
        rec["userDefinedFields"] = udfs
    else:
        rec.pop("userDefinedFields", None)  # the real API omits the list when nothing has a value


def _now() -> str:
    return normalize_date(datetime.now(UTC))
