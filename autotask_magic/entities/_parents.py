"""Which field of a child record holds its parent's id, for the child paths of the published surface.

``Tickets/{id}/Notes`` holds TicketNotes whose ``ticketID`` is the parent's id. Both the client (writes
through a parent's path) and the sandbox (routing children) need this one rule.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PARENT_FIELDS", "parent_field", "singular"]

# Child paths whose parent-id field is not ``<parent singular>ID``. SLA results carry no such field: the
# sandbox keeps the parent id in a key it does not serve (records render only declared fields).
PARENT_FIELDS = {
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


def parent_field(parent: str, segment: str, child_fields: Iterable[str]) -> str:
    """The child's field holding the parent's id on ``PARENT/{id}/SEGMENT`` (``ticketID`` for Tickets/Notes).

    Raises ValueError when no field of the child names the parent.
    """
    explicit = PARENT_FIELDS.get((parent, segment))
    if explicit is not None:
        return explicit
    names = list(child_fields)
    lower = {f.lower(): f for f in names}
    one = singular(parent).lower()
    if one + "id" in lower:
        return lower[one + "id"]
    if segment == "Attachments" and "parentid" in lower:
        return lower["parentid"]
    # ``webhookID`` under CompanyWebhooks, ``orderID`` under PurchaseOrders: the longest matching tail.
    tails = [f for f in names if f.lower().endswith("id") and len(f) > 2 and one.endswith(f[:-2].lower())]
    if tails:
        return max(tails, key=len)
    raise ValueError(f"no parent-id field for {parent}/{{id}}/{segment}")
