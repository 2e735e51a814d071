"""Entity schemas: the fields, picklists, UDFs and child collections of each sandbox entity.

``SCHEMAS`` is the one place an entity is declared; ``entityInformation`` answers, write checks,
filter compilation and data generation all read it. The picklists are module constants so that the
generators in ``_generate`` pick from the same values the metadata reports.
"""

from __future__ import annotations

from ._published import build_schemas
from ._spec import ChildSpec, EntitySpec, FieldDef

__all__ = [
    "ENTITY_NAMES",
    "RICH_NAMES",
    "SCHEMAS",
    "ChildSpec",
    "EntitySpec",
    "FieldDef",
    "lookup_entity",
]


def _pl(*pairs: tuple[int, str]) -> tuple[tuple[int, str], ...]:
    return tuple(pairs)


TICKET_STATUS = _pl(
    (1, "New"),
    (5, "Complete"),
    (7, "Waiting Customer"),
    (8, "In Progress"),
    (9, "Waiting Materials"),
    (10, "Dispatched"),
    (11, "Escalate"),
    (12, "Waiting Vendor"),
    (13, "Waiting Approval"),
    (15, "On Hold"),
)
TICKET_PRIORITY = _pl((1, "High"), (2, "Medium"), (3, "Low"), (4, "Critical"))
TICKET_QUEUE = _pl(
    (5, "Client Portal"),
    (6, "Post Sale"),
    (7, "Post Sale"),  # a retired queue: an inactive value with a duplicate label, as tenants have
    (8, "Level I Support"),
    (29682833, "Level II Support"),
    (29682969, "Monitoring Alert"),
    (29683354, "Recurring Tickets"),
)
ISSUE_TYPE = _pl(
    (4, "Hardware"), (5, "Software"), (6, "Network"), (7, "Email"), (8, "Security"), (9, "Account Management")
)
SUB_ISSUE = (  # (value, label, parent issue type)
    (101, "Laptop", 4),
    (102, "Printer", 4),
    (103, "Server", 4),
    (111, "Microsoft 365", 5),
    (112, "Line of Business App", 5),
    (113, "Windows Update", 5),
    (121, "Firewall", 6),
    (122, "Wi-Fi", 6),
    (123, "VPN", 6),
    (131, "Mailbox", 7),
    (132, "Spam / Phishing", 7),
    (141, "Antivirus", 8),
    (142, "Suspicious Login", 8),
    (151, "New User", 9),
    (152, "Password Reset", 9),
    (153, "Offboarding", 9),
)
TICKET_SOURCE = _pl(
    (-2, "Insourced"),
    (-1, "Client Portal"),
    (1, "Other"),
    (2, "Phone"),
    (3, "Voice Mail"),
    (4, "Email"),
    (6, "Web Portal"),
    (8, "Monitoring Alert"),
)
TICKET_TYPE = _pl((1, "Service Request"), (2, "Incident"), (3, "Problem"), (4, "Change Request"), (5, "Alert"))
TICKET_CATEGORY = _pl((2, "Standard"), (3, "RMM Alert"), (4, "Project Issue"))
COMPANY_TYPE = _pl(
    (1, "Customer"), (2, "Lead"), (3, "Prospect"), (4, "Dead"), (6, "Cancellation"), (7, "Vendor"), (8, "Partner")
)
PROJECT_STATUS = _pl((0, "Inactive"), (1, "New"), (2, "Active"), (3, "On Hold"), (5, "Complete"))
PROJECT_TYPE = _pl((3, "Proposal"), (4, "Template"), (5, "Client"), (8, "Internal"))
TICKET_QUEUE_INACTIVE = frozenset({7})
TASK_TYPE = _pl((1, "Fixed Work"), (2, "Fixed Duration"))
TASK_STATUS = _pl((1, "New"), (5, "Complete"), (8, "In Progress"), (9, "Waiting Customer"))
BILLING_CODE = _pl(
    (29682801, "Remote Support"), (29682802, "Onsite Support"), (29682803, "Project Labor"), (29682804, "After Hours")
)
TIER = ("Bronze", "Silver", "Gold", "Platinum")
ROOT_CAUSE = ("User Error", "Hardware Failure", "Software Bug", "Configuration", "Vendor Outage", "Unknown")

F = FieldDef
# The seven analysis entities, declared by hand with tenant-like facts (required, read-only, references,
# picklists, UDFs); ``build_schemas`` adds every other published field and the other 160 entities.
_RICH: dict[str, EntitySpec] = {
    "Companies": EntitySpec(
        "Companies",
        "Company",
        [
            F("id", "long", read_only=True, required=True),
            F("companyName", "string", required=True, length=100),
            F("companyNumber", "string", length=50),
            F("companyType", "integer", picklist=COMPANY_TYPE, required=True),
            F("phone", "string", required=True, length=25),
            F("address1", "string", length=128),
            F("city", "string", length=30),
            F("state", "string", length=25),
            F("postalCode", "string", length=10),
            F("webAddress", "string", length=255),
            F("isActive", "boolean"),
            F("ownerResourceID", "integer", reference="Resources", required=True),
            F("createDate", "datetime", read_only=True),
            F("lastActivityDate", "datetime", read_only=True),
        ],
        udfs=[
            F("Contract Tier", "string", picklist=tuple((i, t) for i, t in enumerate(TIER))),
            F("Seats", "integer"),
            F("Onboarding Date", "datetime"),
        ],
    ),
    "Contacts": EntitySpec(
        "Contacts",
        "Contact",
        [
            F("id", "long", read_only=True, required=True),
            F("companyID", "integer", reference="Companies", required=True),
            F("firstName", "string", required=True, length=50),
            F("lastName", "string", required=True, length=50),
            F("emailAddress", "string", length=254),
            F("phone", "string", length=25),
            F("title", "string", length=50),
            F("isActive", "integer", required=True),
            F("primaryContact", "boolean"),
            F("createDate", "datetime", read_only=True),
            F("lastActivityDate", "datetime", read_only=True),
        ],
    ),
    "Resources": EntitySpec(
        "Resources",
        "Resource",
        [
            F("id", "long", read_only=True, required=True),
            F("firstName", "string", length=50),
            F("lastName", "string", length=50),
            F("userName", "string", length=32),
            F("email", "string", length=254),
            F("title", "string", length=50),
            F("resourceType", "string", length=15),
            F("isActive", "boolean"),
        ],
    ),
    "Tickets": EntitySpec(
        "Tickets",
        "Ticket",
        [
            F("id", "long", read_only=True, required=True),
            F("ticketNumber", "string", read_only=True, length=50),
            F("title", "string", required=True, length=255),
            F("description", "string", length=8000),
            F("companyID", "integer", reference="Companies", required=True),
            F("contactID", "integer", reference="Contacts"),
            F("assignedResourceID", "integer", reference="Resources"),
            F("projectID", "integer", reference="Projects"),
            F("status", "integer", picklist=TICKET_STATUS, required=True),
            F("priority", "integer", picklist=TICKET_PRIORITY, required=True),
            F("queueID", "integer", picklist=TICKET_QUEUE, inactive=TICKET_QUEUE_INACTIVE),
            F("issueType", "integer", picklist=ISSUE_TYPE),
            F(
                "subIssueType",
                "integer",
                picklist=tuple((v, lab) for v, lab, _ in SUB_ISSUE),
                parent_field="issueType",
                parent_values=tuple((v, p) for v, _, p in SUB_ISSUE),
            ),
            F("source", "integer", picklist=TICKET_SOURCE),
            F("ticketType", "integer", picklist=TICKET_TYPE),
            F("ticketCategory", "integer", picklist=TICKET_CATEGORY),
            F("estimatedHours", "decimal"),
            F("createDate", "datetime", read_only=True),
            F("lastActivityDate", "datetime", read_only=True),
            F("dueDateTime", "datetime", required=True),
            F("completedDate", "datetime"),
        ],
        udfs=[
            F("Root Cause", "string", picklist=tuple((i, t) for i, t in enumerate(ROOT_CAUSE))),
            F("Customer Satisfaction", "integer"),
            F("Follow Up Date", "datetime"),
        ],
    ),
    "TimeEntries": EntitySpec(
        "TimeEntries",
        "TimeEntry",
        [
            F("id", "long", read_only=True, required=True),
            F("ticketID", "integer", reference="Tickets"),
            F("taskID", "integer", reference="Tasks"),
            F("resourceID", "integer", reference="Resources", required=True),
            F("billingCodeID", "integer", picklist=BILLING_CODE),
            F("dateWorked", "datetime", required=True, date_only=True),
            F("startDateTime", "datetime"),
            F("endDateTime", "datetime"),
            F("hoursWorked", "decimal", required=True),
            F("hoursToBill", "decimal"),
            F("isNonBillable", "boolean"),
            F("summaryNotes", "string", length=8000),
            F("createDateTime", "datetime", read_only=True),
        ],
    ),
    "Projects": EntitySpec(
        "Projects",
        "Project",
        [
            F("id", "long", read_only=True, required=True),
            F("projectName", "string", required=True, length=100),
            F("projectNumber", "string", read_only=True, length=50),
            F("companyID", "integer", reference="Companies", required=True),
            F("projectLeadResourceID", "integer", reference="Resources"),
            F("status", "integer", picklist=PROJECT_STATUS, required=True),
            F("projectType", "integer", picklist=PROJECT_TYPE, required=True),
            F("estimatedTime", "decimal"),
            F("startDateTime", "datetime", required=True),
            F("endDateTime", "datetime", required=True),
            F("completedDateTime", "datetime"),
            F("createDateTime", "datetime", read_only=True),
        ],
    ),
    "Tasks": EntitySpec(
        "Tasks",
        "Task",
        [
            F("id", "long", read_only=True, required=True),
            F("projectID", "integer", reference="Projects", required=True),
            F("title", "string", required=True, length=255),
            F("description", "string", length=8000),
            F("status", "integer", picklist=TASK_STATUS, required=True),
            F("taskType", "integer", picklist=TASK_TYPE, required=True),
            F("assignedResourceID", "integer", reference="Resources"),
            F("estimatedHours", "decimal"),
            F("startDateTime", "datetime"),
            F("endDateTime", "datetime"),
            F("completedDateTime", "datetime"),
            F("createDateTime", "datetime", read_only=True),
        ],
    ),
}
del F

SCHEMAS: dict[str, EntitySpec] = build_schemas(_RICH)
RICH_NAMES: tuple[str, ...] = tuple(_RICH)
ENTITY_NAMES: tuple[str, ...] = tuple(SCHEMAS)
_LOWER = {n.lower(): n for n in SCHEMAS}


def lookup_entity(name: str) -> str | None:
    """Canonical entity name for a URL segment (case-insensitive), or None."""
    return _LOWER.get(name.lower())
