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

from ._spec import ChildSpec, EntitySpec, FieldDef

__all__ = ["DATE_ONLY", "build_schemas", "singular"]

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

# Child paths whose parent-id field is not ``<parent singular>ID``. SLA results carry no such field: the
# sandbox keeps the parent id in a key it does not serve (records render only declared fields).
_PARENT_FIELD = {
    ("Expenses", "Items"): "expenseReportID",
    ("Tasks", "Predecessors"): "successorTaskID",
    ("UserDefinedFields", "ListItems"): "udfFieldId",
    ("ServiceLevelAgreements", "Results"): "serviceLevelAgreementID",
    ("TicketCategories", "FieldDefaults"): "ticketCategoryID",
}


def singular(name: str) -> str:
    """``Companies`` -> ``Company``, ``Taxes`` -> ``Tax``, ``Phases`` -> ``Phase``."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes", "ches", "shes", "uses")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _parent_field(parent: str, segment: str, child_fields: Mapping[str, str]) -> str:
    explicit = _PARENT_FIELD.get((parent, segment))
    if explicit is not None:
        return explicit
    lower = {f.lower(): f for f in child_fields}
    one = singular(parent).lower()
    if one + "id" in lower:
        return lower[one + "id"]
    if segment == "Attachments" and "parentid" in lower:
        return lower["parentid"]
    # ``webhookID`` under CompanyWebhooks, ``orderID`` under PurchaseOrders: the longest matching tail.
    tails = [f for f in child_fields if f.lower().endswith("id") and len(f) > 2 and one.endswith(f[:-2].lower())]
    if tails:
        return max(tails, key=len)
    raise ValueError(f"no parent-id field for {parent}/{{id}}/{segment}")


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
            pf = _parent_field(name, seg, surface[ch.entity].fields)
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
