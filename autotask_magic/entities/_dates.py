"""Which date fields are calendar days (date-only), listed by hand.

Autotask's metadata never says ``date``: every date field is ``datetime``, and a calendar day such as
``TimeEntries.dateWorked`` arrives as midnight UTC (``2020-01-29T00:00:00Z``). Names do not tell
either (``Tickets.createDate`` carries a time of day; ``Projects.startDateTime`` does not). So the
date-only fields are an explicit list of (entity, field) pairs, and they get two rules:

* in a DataFrame they keep their calendar day in every ``tz`` (midnight of that day in the zone,
  never the previous evening);
* a date literal compared with them (``dateWorked >= '2026-01-05'``) is sent as midnight UTC of
  that day, whatever ``--tz`` says (a date-time field reads the literal in ``--tz``).

How a field joins: it is shown as a date without a time in the Autotask UI, and a tenant's records
hold it only at ``T00:00:00Z``. Add the pair below (entity and field as the REST API spells them),
and a row in ``tests/notebook/test_date_only_fields.py``.
"""

from __future__ import annotations

__all__ = ["DATE_ONLY_FIELDS", "is_date_only"]

DATE_ONLY_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("BillingItems", "itemDate"),
        ("ConfigurationItems", "installDate"),
        ("ConfigurationItems", "warrantyExpirationDate"),
        ("ContractBlocks", "datePurchased"),
        ("ContractBlocks", "endDate"),
        ("ContractBlocks", "startDate"),
        ("ContractRetainers", "endDate"),
        ("ContractRetainers", "startDate"),
        ("ContractServiceUnits", "endDate"),
        ("ContractServiceUnits", "startDate"),
        ("Contracts", "endDate"),
        ("Contracts", "startDate"),
        ("ExpenseItems", "expenseDate"),
        ("ExpenseReports", "weekEnding"),
        ("Holidays", "holidayDate"),
        ("Invoices", "fromDate"),
        ("Invoices", "toDate"),
        ("Opportunities", "projectedCloseDate"),
        ("Phases", "dueDate"),
        ("Phases", "startDate"),
        ("Projects", "endDateTime"),
        ("Projects", "startDateTime"),
        ("Resources", "hireDate"),
        ("SubscriptionPeriods", "periodDate"),
        ("Subscriptions", "effectiveDate"),
        ("Subscriptions", "expirationDate"),
        ("TimeEntries", "dateWorked"),
    }
)

_FOLDED = frozenset((entity.casefold(), field.casefold()) for entity, field in DATE_ONLY_FIELDS)


def is_date_only(entity: str, field: str) -> bool:
    """True when ``entity.field`` holds a calendar day (see the module docstring); case-insensitive."""
    return (entity.casefold(), field.casefold()) in _FOLDED
