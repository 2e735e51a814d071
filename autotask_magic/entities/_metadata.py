"""Field metadata of one entity, built from ``entityInformation/fields`` and ``/userDefinedFields``.

    >>> fields = EntityFields.from_api("Tickets", fields_json, udf_json)
    >>> fields.names[:3], fields.picklist("status")[5], fields.suggest("titel")
    (['id', 'title', 'status'], 'Complete', 'title')

Picklist values arrive as strings (``"value": "5"``) while the records carry the field's own type
(``"status": 5``), so picklists of integer-typed fields are keyed by ``int``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ._dates import is_date_only

__all__ = ["DATE_TYPES", "FLOAT_TYPES", "INTEGER_TYPES", "OBJECT_TYPES", "EntityFields", "FieldInfo", "surface_fields"]

# Field metadata says ``dataType`` (integer, long, decimal, datetime, string, boolean on live tenants);
# UDF metadata says ``type``, in words a UDF editor uses (number, date, text…), so both are read here.
#: Type names whose records hold whole numbers.
INTEGER_TYPES = frozenset({"integer", "long", "short", "byte", "int", "int32", "int64"})
#: Type names whose records hold real numbers.
FLOAT_TYPES = frozenset({"double", "decimal", "float", "single", "currency", "number", "numeric", "money"})
#: Type names whose records hold ISO 8601 text.
DATE_TYPES = frozenset({"datetime", "date"})
BOOLEAN_TYPES = frozenset({"boolean", "bool", "yesno", "yes/no", "checkbox"})
#: Type names whose values are lists or objects (Swagger ``array`` / ``object``): kept as Python objects.
OBJECT_TYPES = frozenset({"array", "object"})

# Swagger type (the published surface) -> the metadata's name for it; byte strings are base64 text.
_SURFACE_TYPES = {
    "integer/int32": "integer",
    "integer/int64": "long",
    "number/double": "double",
    "boolean": "boolean",
    "string": "string",
    "string/date-time": "datetime",
    "string/byte": "base64",
    "array": "array",
    "object": "object",
}


@dataclass(frozen=True)
class FieldInfo:
    """One field of an entity: its name, ``dataType`` and, for picklists, value -> label."""

    name: str
    data_type: str = "string"
    is_picklist: bool = False
    picklist: dict[Any, str] = field(default_factory=dict, compare=False, repr=False)
    is_reference: bool = False
    reference_entity: str | None = None
    is_udf: bool = False
    is_required: bool = False
    is_read_only: bool = False
    is_queryable: bool = True
    date_only: bool = False  #: a calendar day sent as a datetime at midnight UTC (``_dates``)

    @property
    def kind(self) -> str:
        """The field's broad kind: integer, float, date, datetime, boolean, object or string."""
        dt = self.data_type.lower()
        if self.date_only and dt in DATE_TYPES:
            return "date"
        if dt in INTEGER_TYPES:
            return "integer"
        if dt in FLOAT_TYPES:
            return "float"
        if dt == "date":
            return "date"
        if dt in DATE_TYPES:
            return "datetime"
        if dt in BOOLEAN_TYPES:
            return "boolean"
        if dt in OBJECT_TYPES:
            return "object"
        return "string"

    def label(self, value: Any) -> str | None:
        """The picklist label of ``value`` (``"5"``, ``5`` or ``np.int64(5)`` alike), or None."""
        if value is None or not self.picklist:
            return None
        return self.picklist.get(_picklist_key(value, self.kind))

    @classmethod
    def from_api(cls, item: Mapping[str, Any], *, is_udf: bool = False) -> FieldInfo:
        """Build from one element of the API's ``fields`` list."""
        name = str(item.get("name") or "")
        data_type = str(item.get("dataType") or item.get("type") or "string")
        info = cls(name=name, data_type=data_type)
        picklist: dict[Any, str] = {}
        for entry in item.get("picklistValues") or ():
            if not isinstance(entry, Mapping) or "value" not in entry:
                continue
            picklist[_picklist_key(entry["value"], info.kind)] = str(entry.get("label", entry["value"]))
        return cls(
            name=name,
            data_type=data_type,
            is_picklist=bool(item.get("isPickList")) or bool(picklist),
            picklist=picklist,
            is_reference=bool(item.get("isReference")),
            reference_entity=item.get("referenceEntityType") or None,
            is_udf=is_udf,
            is_required=bool(item.get("isRequired")),
            is_read_only=bool(item.get("isReadOnly")),
            is_queryable=bool(item.get("isQueryable", True)),
        )


def _picklist_key(value: Any, kind: str) -> Any:
    # The API sends picklist values as strings; records carry the field's type.
    if kind == "integer":
        try:
            return int(str(value).strip())
        except ValueError:
            pass
        try:  # 5.0: an integer column that holds a missing value is float
            number = float(str(value).strip())
        except ValueError:
            return value
        return int(number) if number.is_integer() else value
    if kind == "float":
        try:
            return float(str(value).strip())
        except ValueError:
            return value
    return value


def _field_list(payload: Any) -> list[Mapping[str, Any]]:
    if payload is None:
        return []
    if isinstance(payload, Mapping):
        payload = payload.get("fields") or []
    return [item for item in payload if isinstance(item, Mapping) and item.get("name")]


class EntityFields:
    """The fields and user-defined fields of one entity, in API order, with case-insensitive lookup."""

    def __init__(self, entity: str, fields: Iterable[FieldInfo], udfs: Iterable[FieldInfo] = ()) -> None:
        self.entity = entity
        # The metadata calls every date a datetime; the hand-made list knows the calendar days.
        fields = [replace(f, date_only=True) if is_date_only(entity, f.name) else f for f in fields]
        self._fields: dict[str, FieldInfo] = {f.name: f for f in fields}
        self._udfs: dict[str, FieldInfo] = {f.name: f for f in udfs}
        self._fold = {name.casefold(): name for name in reversed(list(self._fields))}
        self._udf_fold = {name.casefold(): name for name in reversed(list(self._udfs))}

    @classmethod
    def from_api(cls, entity: str, fields_json: Any, udf_json: Any = None) -> EntityFields:
        """Build from the JSON of ``{entity}/entityInformation/fields`` and ``.../userDefinedFields``."""
        return cls(
            entity,
            [FieldInfo.from_api(item) for item in _field_list(fields_json)],
            [FieldInfo.from_api(item, is_udf=True) for item in _field_list(udf_json)],
        )

    def __repr__(self) -> str:
        return f"EntityFields({self.entity!r}, {len(self._fields)} fields, {len(self._udfs)} UDFs)"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    def __len__(self) -> int:
        return len(self._fields)

    @property
    def names(self) -> list[str]:
        """Standard field names in API order."""
        return list(self._fields)

    @property
    def udf_names(self) -> list[str]:
        """User-defined field names in API order."""
        return list(self._udfs)

    @property
    def fields(self) -> list[FieldInfo]:
        """Standard fields in API order."""
        return list(self._fields.values())

    @property
    def udfs(self) -> list[FieldInfo]:
        """User-defined fields in API order."""
        return list(self._udfs.values())

    @property
    def date_fields(self) -> list[str]:
        """Standard fields whose ``dataType`` is ``dateTime`` or ``date``."""
        return [f.name for f in self._fields.values() if f.kind in ("date", "datetime")]

    @property
    def picklist_fields(self) -> list[str]:
        """Standard fields that have picklist labels."""
        return [f.name for f in self._fields.values() if f.picklist]

    def resolve(self, name: str, *, udf: bool = False) -> str | None:
        """The metadata's spelling of ``name`` (exact match first, then case-insensitive), or None."""
        table, fold = (self._udfs, self._udf_fold) if udf else (self._fields, self._fold)
        if name in table:
            return name
        return fold.get(name.casefold())

    def get(self, name: str, *, udf: bool | None = None) -> FieldInfo | None:
        """The field called ``name`` (case-insensitive); ``udf=None`` tries standard fields, then UDFs."""
        for is_udf in (False, True) if udf is None else (udf,):
            resolved = self.resolve(name, udf=is_udf)
            if resolved is not None:
                return (self._udfs if is_udf else self._fields)[resolved]
        return None

    def picklist(self, name: str, *, udf: bool | None = None) -> dict[Any, str]:
        """Value -> label for a picklist field (empty dict if none)."""
        info = self.get(name, udf=udf)
        return dict(info.picklist) if info is not None else {}

    def suggest(self, name: str, *, udf: bool = False) -> str | None:
        """The closest known field name to a misspelled ``name``, or None."""
        candidates = self.udf_names if udf else self.names
        return _closest(name, candidates)


def _closest(name: str, candidates: Sequence[str]) -> str | None:
    folded = {c.casefold(): c for c in reversed(candidates)}
    match = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


@cache
def surface_fields(entity: str) -> EntityFields | None:
    """The published model's fields of ``entity`` typed from the surface (no required, read-only,
    reference or picklist facts: those are the tenant's), or None for an entity the surface lacks.

    The fallback when a tenant's metadata is missing, or lacks a field a record carries.
    """
    from ._surface import api_surface

    ent = api_surface().lookup(entity)
    if ent is None:
        return None
    infos = [
        FieldInfo(name, _SURFACE_TYPES.get(swagger, "string"))
        for name, swagger in ent.fields.items()
        if name != "userDefinedFields"
    ]
    return EntityFields(ent.name, infos)
