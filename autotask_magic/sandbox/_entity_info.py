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
    return Reply(200, {"fields": [_field_info(fd) for fd in target.entity.fields]})


def udf_information(req: Request, target: Target) -> Reply:
    """``GET /{entity}/entityInformation/userDefinedFields``."""
    return Reply(200, {"fields": [_udf_info(fd) for fd in target.entity.udfs]})


def _entity_info(spec: EntitySpec) -> dict[str, Any]:
    return {
        "name": spec.singular,
        "canCreate": spec.can_create,
        "canDelete": spec.can_delete,
        "canQuery": spec.allows("query"),
        "canUpdate": spec.can_update,
        "userAccessForCreate": "All",
        "userAccessForDelete": "All" if spec.can_delete else "None",
        "userAccessForQuery": "All",
        "userAccessForUpdate": "All",
        "hasUserDefinedFields": spec.udf_key,
        "supportsWebhookCallouts": spec.name in ("Companies", "Contacts", "Tickets", "ConfigurationItems"),
    }


def _field_info(fd: FieldDef) -> dict[str, Any]:
    return {
        "name": fd.name,
        "dataType": fd.data_type,
        "length": fd.length,
        "isRequired": fd.required,
        "isReadOnly": fd.read_only,
        "isQueryable": True,
        "isReference": fd.reference is not None,
        "referenceEntityType": SCHEMAS[fd.reference].singular if fd.reference else "",
        "isPickList": fd.picklist is not None,
        "picklistValues": _picklist(fd, udf=False),
        "picklistParentValueField": fd.parent_field or "",
        "isSupportedWebhookField": False,
    }


def _udf_info(fd: FieldDef) -> dict[str, Any]:
    # UDF metadata names its type ``type`` (not ``dataType``), as recorded tenant answers do.
    return {
        "name": fd.name,
        "label": fd.name,
        "description": f"{fd.name} (sandbox user-defined field)",
        "type": fd.data_type,
        "defaultValue": None,
        "isRequired": False,
        "isActive": True,
        "isPickList": fd.picklist is not None,
        "picklistValues": _picklist(fd, udf=True),
        "udfType": 0,
        "length": fd.length,
        "numberOfDecimalPlaces": 4 if fd.data_type == "decimal" else 0,
    }


def _picklist(fd: FieldDef, *, udf: bool) -> list[dict[str, Any]] | None:
    if fd.picklist is None:
        return None
    parents = dict(fd.parent_values or ())
    return [
        {
            # Values are strings, as on the wire; a UDF picklist's value is its label.
            "value": label if udf else str(v),
            "label": label,
            "isDefaultValue": False,
            "sortOrder": i,
            "parentValue": str(parents[v]) if v in parents else "",
            "isActive": v not in fd.inactive,
            "isSystem": not udf,
        }
        for i, (v, label) in enumerate(fd.picklist)
    ]
