"""Names of common Autotask REST entities, for tab completion and "did you mean" hints.

Not authoritative: the server is. Entities learned from metadata during the session are added to
these by the magics, and nothing is refused because it is missing here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["COMMON_ENTITIES", "suggest_entity"]

COMMON_ENTITIES: tuple[str, ...] = (
    "ActionTypes",
    "AdditionalInvoiceFieldValues",
    "Appointments",
    "BillingCodes",
    "BillingItems",
    "ChangeRequestLinks",
    "ChecklistLibraries",
    "ClassificationIcons",
    "ClientPortalUsers",
    "Companies",
    "CompanyAlerts",
    "CompanyLocations",
    "CompanyNotes",
    "CompanySiteConfigurations",
    "CompanyTeams",
    "CompanyToDos",
    "ConfigurationItemCategories",
    "ConfigurationItemNotes",
    "ConfigurationItems",
    "ConfigurationItemTypes",
    "ContactGroups",
    "Contacts",
    "ContractBillingRules",
    "ContractBlocks",
    "ContractCharges",
    "ContractExclusionSets",
    "ContractMilestones",
    "ContractNotes",
    "ContractRates",
    "ContractRoles",
    "Contracts",
    "ContractServices",
    "Countries",
    "Currencies",
    "Departments",
    "DomainRegistrars",
    "ExpenseItems",
    "ExpenseReports",
    "HolidaySets",
    "Invoices",
    "InvoiceTemplates",
    "Opportunities",
    "OrganizationalLevel1s",
    "OrganizationalLevel2s",
    "PaymentTerms",
    "Phases",
    "PriceListProducts",
    "ProductCategories",
    "Products",
    "ProductVendors",
    "Projects",
    "ProjectNotes",
    "PurchaseOrderItems",
    "PurchaseOrders",
    "QuoteItems",
    "QuoteLocations",
    "Quotes",
    "QuoteTemplates",
    "Resources",
    "ResourceRoles",
    "Roles",
    "SalesOrders",
    "ServiceCalls",
    "ServiceCallTickets",
    "Services",
    "ServiceBundles",
    "ServiceLevelAgreementResults",
    "Skills",
    "Subscriptions",
    "SurveyResults",
    "TaskNotes",
    "Tasks",
    "TaxCategories",
    "Taxes",
    "TaxRegions",
    "TicketAdditionalConfigurationItems",
    "TicketAdditionalContacts",
    "TicketCategories",
    "TicketChangeRequestApprovals",
    "TicketChecklistItems",
    "TicketHistory",
    "TicketNotes",
    "TicketRmaCredits",
    "Tickets",
    "TicketSecondaryResources",
    "TimeEntries",
    "UserDefinedFieldDefinitions",
    "WorkTypeModifiers",
    "ThresholdInformation",
    "Version",
    "ZoneInformation",
)


def suggest_entity(name: str, known: Iterable[str] = ()) -> str | None:
    """The closest entity name to ``name`` (case-insensitive), or None."""
    names = list(dict.fromkeys([*known, *COMMON_ENTITIES]))
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    # Never the input itself: "did you mean TicketNotes?" for TicketNotes helps nobody.
    others = [low for low in lowered if low != name.lower()]
    match = difflib.get_close_matches(name.lower(), others, n=1, cutoff=0.75)
    return lowered[match[0]] if match else None
