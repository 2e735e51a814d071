"""A small deterministic data set for each of the 160 entities that ``_generate`` does not seed by hand.

Three records each (ids 1-3), built on first use from the entity's fields alone: a child's parent-id
field points at the first records of its parent, a reference at records of the referenced entity
(whose ids are 1-3 too, or the seeded ones for the seven analysis entities, so every id resolves),
and the other fields get plausible values of their type (dates at midnight for date-only fields,
decimals whole in one record and fractional in the next, some strings left null).
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from ._schema import SCHEMAS
from ._spec import EntitySpec, FieldDef

__all__ = ["GENERIC_IDS", "generate_generic", "parent_fields"]

#: The ids every generic entity starts with.
GENERIC_IDS = (1, 2, 3)

_DAY_MS = 86_400_000
_BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_BY_SINGULAR = {spec.singular.lower(): name for name, spec in SCHEMAS.items() if spec.allows("query")}
_NAMEISH = ("name", "title", "description", "subject", "label", "number", "code", "text")


def parent_fields(spec: EntitySpec) -> dict[str, str]:
    """Field -> parent entity, for every child path whose records are ``spec``'s."""
    out = {}
    for parent in SCHEMAS.values():
        for child in parent.children.values():
            if child.entity == spec.name:
                out[child.parent_field] = parent.name
    return out


def generate_generic(spec: EntitySpec, parents: dict[str, str], store: Any) -> list[dict[str, Any]]:
    """``spec``'s records; ``parents`` maps parent-id fields to parent entities, ``store`` resolves their ids."""
    records = []
    for i, rid in enumerate(GENERIC_IDS):
        rec: dict[str, Any] = {"id": rid}
        for fd in spec.fields:
            if fd.name == "id":
                continue
            if fd.name in parents:
                rec[fd.name] = _pick(store, parents[fd.name], i, first_only=True)
            elif (target := fd.reference or _implied(fd)) is not None:
                rec[fd.name] = _pick(store, target, i, first_only=False)
            else:
                rec[fd.name] = _value(spec, fd, i)
        for name, parent in parents.items():  # a parent id the model has no field for (SLA results)
            rec.setdefault(name, _pick(store, parent, i, first_only=True))
        records.append(rec)
    return records


def _implied(fd: FieldDef) -> str | None:
    """The entity an id field points at by its name's tail (``assignedResourceID`` -> Resources), if any.

    Used only to make generated ids resolve; the metadata does not call such fields references.
    """
    if fd.data_type not in ("integer", "long") or not fd.name.endswith(("ID", "Id")):
        return None
    stem = fd.name[:-2]
    for i in range(len(stem)):  # the longest tail first: contractServiceBundleID -> ContractServiceBundles
        if i == 0 or stem[i].isupper():
            target = _BY_SINGULAR.get(stem[i:].lower())
            if target is not None:
                return target
    return None


def _pick(store: Any, entity: str, i: int, *, first_only: bool) -> int | None:
    # Generic entities' ids are known without generating them: no cycles (a Contract's Charges
    # reference Contracts, whose records reference ...) and no cascade of generation.
    ids = store[entity].ids if SCHEMAS[entity].rich else list(GENERIC_IDS)
    if not ids:
        return None
    # Children sit under the first two parents, so the first parent always has some.
    return ids[(i % 2) if first_only else (i % len(ids))] if len(ids) > 1 else ids[0]


def _value(spec: EntitySpec, fd: FieldDef, i: int) -> Any:
    salt = zlib.crc32(f"{spec.name}.{fd.name}".encode())
    t = fd.data_type
    if t == "boolean":
        return (salt + i) % 2 == 0
    if t in ("integer", "long"):
        return 1 + (salt + i) % 3
    if t == "decimal":
        whole = 10 * (1 + (salt + i) % 9)
        return whole if i % 2 == 0 else whole + 0.25
    if t == "datetime":
        ms = _BASE_MS + ((salt + 97 * i) % 700) * _DAY_MS
        if not fd.date_only:
            ms += ((salt >> 8) + 13 * i) % 86_400 * 1000 + (0, 200, 113)[i % 3]
        return _iso(ms)
    if fd.name == "data":  # attachment content: base64 as sent
        return "U2FuZGJveCBhdHRhY2htZW50"
    low = fd.name.lower()
    if "email" in low:
        return f"{spec.singular.lower()}{i + 1}@sandboxmsp.example"
    if any(k in low for k in _NAMEISH):
        return f"{spec.singular} {i + 1}"
    return None if (salt + i) % 3 == 0 else f"{fd.name} {i + 1}"


def _iso(ms: int) -> str:
    secs, milli = divmod(ms, 1000)
    d = datetime(1970, 1, 1) + timedelta(seconds=secs)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{milli:03d}Z"
