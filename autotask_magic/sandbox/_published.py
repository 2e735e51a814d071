"""Every entity of the published API surface as an ``EntitySpec``: the seven hand-declared ones enriched.

The surface (``autotask_magic.entities.api_surface``) gives each entity's operations, child paths and
model fields with Swagger types. It has no required, read-only, reference or picklist facts, so for
the entities ``_schema`` does not declare by hand the sandbox says only what is safe: ``id`` is
read-only, and an ``…ID`` field whose name minus ``ID`` is plainly another entity's singular name
(``companyID`` -> Company) references that entity. That is the sandbox's own choice, not a fact.
"""

from __future__ import annotations

from collections.abc import Mapping

from autotask_magic.entities import api_surface
from autotask_magic.entities._parents import parent_field, singular

from ._spec import ChildSpec, EntitySpec, FieldDef

__all__ = ["DATE_ONLY", "build_schemas", "singular"]  # singular: re-exported from entities._parents

# Swagger type -> entityInformation dataType (the names live tenants use: no ``double``, no ``date``).
_DATA_TYPES = {
    "integer/int32": "integer",
    "integer/int64": "long",
    "number/double": "decimal",
    "boolean": "boolean",
    "string": "string",
    "string/date-time": "datetime",
    "string/byte": "string",
    "array": "string",  # no live answer shows these: the sandbox serves them as null
    "object": "string",
}

#: Date-time fields that hold a date at midnight UTC in records.
DATE_ONLY = frozenset(
    {
        "dateWorked",
        "startDate",
        "endDate",
        "hireDate",
        "holidayDate",
        "itemDate",
        "expenseDate",
        "datePurchased",
        "installDate",
        "warrantyExpirationDate",
        "effectiveDate",
        "periodDate",
        "weekEnding",
        "dueDate",
        "dateDue",
        "expirationDate",
        "fromDate",
        "toDate",
        "throughDate",
    }
)

# Entities whose records never carry ``userDefinedFields`` although their model lists it (recorded answers).
_NO_UDF_KEY = frozenset({"TimeEntries", "Resources"})


def build_schemas(rich: Mapping[str, EntitySpec]) -> dict[str, EntitySpec]:
    """One spec per surface entity: ``rich`` ones keep their declarations and gain every published field."""
    surface = api_surface()
    singulars = {singular(n).lower(): n for n in surface}
    queryable = {n for n, e in surface.items() if e.allows("get") or e.allows("query")}
    via: dict[str, set[str]] = {}
    children: dict[str, dict[str, ChildSpec]] = {}
    for name, ent in surface.items():
        kids: dict[str, ChildSpec] = {}
        for seg, ch in ent.children.items():
            pf = parent_field(name, seg, surface[ch.entity].fields)
            kids[seg.lower()] = ChildSpec(seg, ch.entity, pf, ch.operations)
            via.setdefault(ch.entity, set()).update(ch.operations)
        children[name] = kids
    out: dict[str, EntitySpec] = {}
    for name, ent in surface.items():
        declared = rich.get(name)
        fields = list(declared.fields) if declared else []
        have = {f.name.lower() for f in fields}
        # ``id`` first, as live answers have it; then the published order.
        for fname, swagger in sorted(ent.fields.items(), key=lambda kv: kv[0] != "id"):
            if fname == "userDefinedFields" or fname.lower() in have:
                continue
            fields.append(_published_field(fname, swagger, name, singulars, queryable))
        spec = EntitySpec(
            name,
            declared.singular if declared else singular(name),
            fields,
            udfs=list(declared.udfs) if declared else [],
            children=children[name],
            operations=ent.operations,
            udf_key=ent.has_udfs and name not in _NO_UDF_KEY,
            rich=declared is not None,
            via_parent=frozenset(via.get(name, ())),
        )
        out[name] = spec
    return out


def _published_field(
    fname: str, swagger: str, entity: str, singulars: Mapping[str, str], queryable: set[str]
) -> FieldDef:
    data_type = _DATA_TYPES.get(swagger, "string")
    if fname == "id":
        return FieldDef("id", data_type, read_only=True)
    reference = None
    if fname.endswith(("ID", "Id")) and data_type in ("integer", "long"):
        target = singulars.get(fname[:-2].lower())
        if target is not None and target in queryable and target != entity:
            reference = target
    length = (
        8000 if fname in ("description", "note", "notes", "summaryNotes") else (100 if data_type == "string" else 0)
    )
    return FieldDef(fname, data_type, reference=reference, length=length, date_only=fname in DATE_ONLY)
