"""Metadata endpoints: ``/{entity}/entityInformation``, ``/fields`` and ``/userDefinedFields``.

The answers are built from ``_schema.SCHEMAS`` in the shapes the real API uses, including picklist
entries with their parent values (``subIssueType`` under ``issueType``).
"""

from __future__ import annotations

from typing import Any

from ._request import Reply, Request, Target
from ._schema import SCHEMAS, EntitySpec, FieldDef

__all__ = ["entity_information", "field_information", "udf_information"]


def entity_information(req: Request, target: Target) -> Reply:
    """``GET /{entity}/entityInformation``."""
    return Reply(200, {"info": _entity_info(target.entity)})


def field_information(req: Request, target: Target) -> Reply:
    """``GET /{entity}/entityInformation/fields``."""
    return Reply(200, {"fields": [_field_info(fd, False) for fd in target.entity.fields]})


def udf_information(req: Request, target: Target) -> Reply:
    """``GET /{entity}/entityInformation/userDefinedFields``."""
    return Reply(200, {"fields": [_field_info(fd, True) for fd in target.entity.udfs]})


def _entity_info(spec: EntitySpec) -> dict[str, Any]:
    return {
        "name": spec.singular,
        "canCreate": spec.can_create,
        "canDelete": spec.can_delete,
        "canQuery": True,
        "canUpdate": spec.can_update,
        "userAccessForCreate": "All",
        "userAccessForDelete": "All" if spec.can_delete else "None",
        "userAccessForQuery": "All",
        "userAccessForUpdate": "All",
        "hasUserDefinedFields": bool(spec.udfs),
        "supportsWebhookCallouts": spec.name in ("Companies", "Contacts", "Tickets"),
    }


def _field_info(fd: FieldDef, udf: bool) -> dict[str, Any]:
    parents = dict(fd.parent_values or ())
    info: dict[str, Any] = {
        "name": fd.name,
        "dataType": fd.data_type,
        "length": fd.length,
        "isRequired": fd.required,
        "isReadOnly": fd.read_only,
        "isQueryable": True,
        "isReference": fd.reference is not None,
        "referenceEntityType": SCHEMAS[fd.reference].singular if fd.reference else "",
        "isPickList": fd.picklist is not None,
        "picklistValues": None
        if fd.picklist is None
        else [
            {
                "value": str(v) if not udf else label,
                "label": label,
                "isDefaultValue": False,
                "sortOrder": i,
                "parentValue": str(parents[v]) if v in parents else "",
                "isActive": True,
                "isSystem": not udf,
            }
            for i, (v, label) in enumerate(fd.picklist)
        ],
        "picklistParentValueField": fd.parent_field or "",
        "isSupportedWebhookField": False,
    }
    if udf:
        info["udfType"] = 0
        info["isActive"] = True
    return info
