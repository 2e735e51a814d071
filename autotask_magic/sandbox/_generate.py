"""Deterministic (seeded) data generation for the sandbox entities declared in ``_schema``.

Generation is column-wise with numpy and records are built in one pass, so 200,000 tickets take
about a second. Ids ascend with creation time (like a real database) and have occasional gaps
(deleted rows), which exercises paging code that assumes nothing about id density.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._generic import generate_generic, parent_fields
from ._schema import ROOT_CAUSE, SCHEMAS, SUB_ISSUE, TIER
from ._vocabulary import (
    ALERT_TITLES,
    BRANDS,
    CITIES,
    DESCRIPTIONS,
    FIRST,
    FORMS,
    LAST,
    NOTES,
    PROBLEMS,
    PROJECTS,
    STREETS,
    TASKS,
    TECH_TITLES,
    TITLES,
    TRADES,
)

__all__ = [
    "END_MS",
    "START_MS",
    "Plan",
    "default_company_count",
    "default_resource_count",
    "generate_entity",
]

# A fixed "now" keeps generated data identical across runs and across days.
START_MS = 1546300800000  # 2019-01-01T00:00:00Z
END_MS = 1782777600000  # 2026-06-30T00:00:00Z
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def default_company_count(tickets: int) -> int:
    """Tens of companies at demo size, growing slowly with the ticket count."""
    return max(12, min(5000, tickets // 60))


def default_resource_count(tickets: int) -> int:
    """Ten resources at demo size, growing slowly with the ticket count (at most 150)."""
    return max(10, min(150, 10 + tickets // 2000))


# -- helpers ------------------------------------------------------------------------------------


def _rng(seed: int, entity: str) -> np.random.Generator:
    # Each entity has its own stream, so lazily generated entities do not depend on access order.
    return np.random.default_rng([seed, sum(ord(c) * 131**i for i, c in enumerate(entity)) % 2**32])


def _iso(ms: np.ndarray) -> list[str]:
    """Epoch milliseconds -> ``2026-11-27T14:05:09.123Z`` strings (vectorised)."""
    return [s + "Z" for s in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()]


def _iso_or_none(ms: np.ndarray, mask: np.ndarray) -> list[str | None]:
    return [s if m else None for s, m in zip(_iso(ms), mask.tolist())]


def _ids(rng: np.random.Generator, n: int, start: int) -> np.ndarray:
    """Ascending ids with occasional gaps, as left behind by deleted rows."""
    steps = 1 + (rng.random(n) < 0.04) * rng.integers(1, 6, n)
    return start + np.cumsum(steps) - steps[0]


def _pick(rng: np.random.Generator, values: Sequence[Any], n: int, p: Sequence[float] | None = None) -> list[Any]:
    idx = rng.choice(len(values), size=n, p=p)
    return [values[i] for i in idx.tolist()]


def _compile(src: str) -> Callable[..., Any]:
    ns: dict[str, Any] = {}
    exec(src, ns)
    return ns["f"]


def _records(columns: dict[str, Sequence[Any]], udfs: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows from columns; ``udfs`` (list or None per row) becomes ``userDefinedFields`` when not None.

    The loop is compiled once per entity with a dict display: markedly faster than dict(zip()) per
    record, and the key is present from the start (adding it later would resize every dict).
    """
    keys = list(columns)
    args = ", ".join(f"a{i}" for i in range(len(keys)))
    body = ", ".join(f"{k!r}: a{i}" for i, k in enumerate(keys))
    cols = list(columns.values())
    if udfs is None:
        return list(map(_compile(f"f = lambda {args}: {{{body}}}"), *cols))
    build = _compile(
        f"def f(cols):\n"
        f"    out = []\n    ap = out.append\n"
        f"    for {args}, u in zip(*cols):\n"
        f"        if u is None:\n            ap({{{body}}})\n"
        f"        else:\n            ap({{{body}, 'userDefinedFields': u}})\n"
        f"    return out\n"
    )
    return build(cols + [udfs])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _udfs(columns: dict[str, list[Any]]) -> list[list[dict[str, Any]] | None]:
    """Per row: the ``userDefinedFields`` list, or None when none of the UDFs has a value."""
    names = list(columns)
    args = ", ".join(f"a{i}" for i in range(len(names)))
    test = " or ".join(f"a{i} is not None" for i in range(len(names)))
    items = ", ".join(f"{{'name': {n!r}, 'value': a{i}}}" for i, n in enumerate(names))
    f = _compile(f"f = lambda {args}: [{items}] if {test} else None")
    return list(map(f, *columns.values()))


# -- generators ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """Sizes and seed shared by every generator; ids of small entities are derived from it."""

    seed: int
    tickets: int
    companies: int
    resources: int
    api_username: str = ""  # the API user gets a Resource record (clients look "who am I" up by email)

    @property
    def projects(self) -> int:
        """How many projects: a third of the companies, at least four."""
        return max(4, self.companies // 3)

    @property
    def resource_ids(self) -> list[int]:
        """The resource ids: consecutive, starting at a realistic Autotask resource id."""
        return [29682885 + i for i in range(self.resources)]


def _gen_companies(plan: Plan, store: Any) -> list[dict[str, Any]]:
    rng = _rng(plan.seed, "Companies")
    n = plan.companies
    combos = [(b, t, f) for b in BRANDS for t in TRADES for f in FORMS]
    order = rng.permutation(len(combos)).tolist()
    names = ["Sandbox MSP"]
    for i in range(1, n):
        b, t, f = combos[order[(i - 1) % len(combos)]]
        suffix = "" if i <= len(combos) else f" {(i - 1) // len(combos) + 1}"
        names.append(f"{b} {t}{suffix} {f}")
    ids = np.concatenate([[0], _ids(rng, n - 1, 174)]) if n > 1 else np.array([0])
    created = np.sort(rng.integers(START_MS - 3 * 365 * DAY_MS, END_MS - 30 * DAY_MS, n))
    last = np.minimum(END_MS, created + rng.integers(DAY_MS, 5 * 365 * DAY_MS, n))
    city = _pick(rng, CITIES, n)
    ctype = rng.choice([1, 2, 3, 4, 6, 7, 8], size=n, p=[0.62, 0.1, 0.1, 0.05, 0.05, 0.05, 0.03]).tolist()
    ctype[0] = 8
    res = plan.resource_ids
    cols: dict[str, Sequence[Any]] = {
        "id": ids.tolist(),
        "companyName": names,
        "companyNumber": [f"C{1000 + i}" for i in range(n)],
        "companyType": ctype,
        "phone": [
            f"({200 + a}) 555-{b:04d}"
            for a, b in zip(rng.integers(0, 700, n).tolist(), rng.integers(0, 10000, n).tolist())
        ],
        "address1": [f"{a} {s}" for a, s in zip(rng.integers(1, 9999, n).tolist(), _pick(rng, STREETS, n))],
        "city": [c[0] for c in city],
        "state": [c[1] for c in city],
        "postalCode": [c[2] for c in city],
        "webAddress": [f"https://www.{_slug(x)}.example" for x in names],
        "isActive": (rng.random(n) > 0.08).tolist(),
        "ownerResourceID": _pick(rng, res, n),
        "createDate": _iso(created),
        "lastActivityDate": _iso(last),
    }
    has = rng.random(n) < 0.75
    udfs = _udfs(
        {
            "Contract Tier": [t if h else None for t, h in zip(_pick(rng, TIER, n), has.tolist())],
            "Seats": [
                int(s) if h and s > 0 else None for s, h in zip(rng.integers(-20, 250, n).tolist(), has.tolist())
            ],
            "Onboarding Date": [
                d if h and r < 0.6 else None
                for d, h, r in zip(
                    _iso(created + rng.integers(0, 90, n) * DAY_MS), has.tolist(), rng.random(n).tolist()
                )
            ],
        }
    )
    udfs[0] = None  # the MSP's own company carries no customer UDFs
    return _records(cols, udfs)


def _gen_contacts(plan: Plan, store: Any) -> list[dict[str, Any]]:
    rng = _rng(plan.seed, "Contacts")
    companies = store["Companies"]
    comp_ids = sorted(companies)
    per = rng.integers(1, 7, len(comp_ids))
    owner = np.repeat(np.array(comp_ids), per)
    n = len(owner)
    first, last = _pick(rng, FIRST, n), _pick(rng, LAST, n)
    comp_created = _ms_many([companies[c]["createDate"] for c in owner.tolist()])
    created = comp_created + rng.integers(0, 400, n) * DAY_MS + rng.integers(0, DAY_MS, n)
    created = np.minimum(created, END_MS - DAY_MS)
    primary = np.zeros(n, dtype=bool)
    primary[np.concatenate([[0], np.cumsum(per)[:-1]])] = True
    domains = {c: _slug(companies[c]["companyName"]) for c in comp_ids}
    cols: dict[str, Sequence[Any]] = {
        "id": _ids(rng, n, 29683000).tolist(),
        "companyID": owner.tolist(),
        "firstName": first,
        "lastName": last,
        "emailAddress": [
            f"{_slug(f)}.{_slug(la)}@{domains[c]}.example" if r > 0.05 else None
            for f, la, c, r in zip(first, last, owner.tolist(), rng.random(n).tolist())
        ],
        "phone": [f"555-{x:04d}" for x in rng.integers(0, 10000, n).tolist()],
        "title": _pick(rng, TITLES, n),
        "isActive": (rng.random(n) > 0.1).astype(int).tolist(),
        "primaryContact": primary.tolist(),
        "createDate": _iso(created),
        "lastActivityDate": _iso(np.minimum(END_MS, created + rng.integers(0, 900, n) * DAY_MS)),
    }
    return _records(cols)


def _gen_resources(plan: Plan, store: Any) -> list[dict[str, Any]]:
    rng = _rng(plan.seed, "Resources")
    n = plan.resources
    first, last = _pick(rng, FIRST, n), _pick(rng, LAST, n)
    users = [f"{f[0].lower()}{_slug(la)}{i}" for i, (f, la) in enumerate(zip(first, last))]
    cols: dict[str, Sequence[Any]] = {
        "id": plan.resource_ids,
        "firstName": first,
        "lastName": last,
        "userName": users,
        "email": [f"{u}@sandboxmsp.example" for u in users],
        "title": _pick(rng, TECH_TITLES, n),
        "resourceType": ["Employee"] * n,
        "isActive": [i < 3 or r > 0.15 for i, r in enumerate(rng.random(n).tolist())],
    }
    records = _records(cols)
    if plan.api_username:
        records.append(
            {
                "id": plan.resource_ids[-1] + 1,
                "firstName": "API",
                "lastName": "User",
                "userName": plan.api_username.split("@")[0][:32],
                "email": plan.api_username,
                "title": "API User",
                "resourceType": "Employee",
                "isActive": True,
            }
        )
    return records


def _gen_projects(plan: Plan, store: Any) -> list[dict[str, Any]]:
    rng = _rng(plan.seed, "Projects")
    n = plan.projects
    comp_ids = [c for c in sorted(store["Companies"]) if c != 0]
    start = np.sort(rng.integers(START_MS, END_MS - 60 * DAY_MS, n))
    end = start + rng.integers(14, 240, n) * DAY_MS
    status = rng.choice([1, 2, 3, 5, 0], size=n, p=[0.1, 0.3, 0.08, 0.47, 0.05])
    done = (status == 5) & (end < END_MS)
    status = np.where((status == 5) & ~done, 2, status)
    ids = _ids(rng, n, 1001)
    cols: dict[str, Sequence[Any]] = {
        "id": ids.tolist(),
        "projectName": _pick(rng, PROJECTS, n),
        "projectNumber": [f"P{20190000 + i}" for i in ids.tolist()],
        "companyID": _pick(rng, comp_ids, n),
        "projectLeadResourceID": _pick(rng, plan.resource_ids, n),
        "status": status.tolist(),
        "projectType": rng.choice([5, 8, 3], size=n, p=[0.8, 0.15, 0.05]).tolist(),
        "estimatedTime": (rng.integers(8, 400, n) / 2).tolist(),
        "startDateTime": _iso(start),
        "endDateTime": _iso(end),
        "completedDateTime": _iso_or_none(end - rng.integers(0, 7, n) * DAY_MS, done),
        "createDateTime": _iso(start - rng.integers(1, 30, n) * DAY_MS),
    }
    return _records(cols)


def _gen_tickets(plan: Plan, store: Any) -> list[dict[str, Any]]:
    # The helpers below draw from ``rng`` in a fixed order: reordering the calls changes every ticket.
    rng = _rng(plan.seed, "Tickets")
    n = plan.tickets
    if n == 0:
        return []
    comp_ids = np.array([c for c in sorted(store["Companies"]) if c != 0])
    # A few big customers log most tickets (Zipf-like), as in a real MSP.
    weights = 1.0 / np.arange(1, len(comp_ids) + 1) ** 0.8
    comp = rng.choice(comp_ids, size=n, p=weights / weights.sum())
    created, status, done, completed, last_act = _ticket_lifecycle(rng, n)
    kind = _ticket_kind(rng, n)
    created_iso = _iso(created)
    contact, assigned, project = _ticket_links(rng, plan, store, comp.tolist(), status.tolist())
    ttype = np.where(kind["alert"], 5, rng.choice([1, 2, 3, 4], size=n, p=[0.45, 0.4, 0.05, 0.1]))
    cols: dict[str, Sequence[Any]] = {
        "id": _ids(rng, n, 10001).tolist(),
        "ticketNumber": _ticket_numbers(created_iso),
        "title": kind["titles"],
        "description": _pick(rng, DESCRIPTIONS, n),
        "companyID": comp.tolist(),
        "contactID": contact,
        "assignedResourceID": assigned,
        "projectID": project,
        "status": status.tolist(),
        "priority": rng.choice([1, 2, 3, 4], size=n, p=[0.15, 0.5, 0.3, 0.05]).tolist(),
        "queueID": kind["queue"].tolist(),
        "issueType": kind["issue"].tolist(),
        "subIssueType": kind["sub_issue"],
        "source": kind["source"].tolist(),
        "ticketType": ttype.tolist(),
        "ticketCategory": np.where(
            kind["alert"], 3, np.where(np.array([p is not None for p in project]), 4, 2)
        ).tolist(),
        "estimatedHours": (rng.integers(0, 33, n) / 4).tolist(),
        "createDate": created_iso,
        "lastActivityDate": _iso(last_act),
        "dueDateTime": _iso(created + rng.integers(4, 24 * 14, n) * HOUR_MS),
        "completedDate": _iso_or_none(completed, done),
    }
    return _records(cols, _ticket_udfs(rng, created, done, n))


def _ticket_lifecycle(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Creation times, status, done mask, completion and last-activity times."""
    created = np.sort(rng.integers(START_MS, END_MS - HOUR_MS, n))
    age = END_MS - created
    status = rng.choice(
        [1, 5, 7, 8, 9, 10, 11, 12, 13, 15], size=n, p=[0.05, 0.7, 0.05, 0.07, 0.02, 0.03, 0.02, 0.02, 0.02, 0.02]
    )
    # Old tickets are almost all closed.
    status = np.where((age > 90 * DAY_MS) & (rng.random(n) < 0.97), 5, status)
    done = status == 5
    completed = created + np.minimum(age - 1, rng.exponential(2.5 * DAY_MS, n).astype(np.int64) + 600_000)
    last_act = np.where(done, completed, created + (rng.random(n) * np.minimum(age, 30 * DAY_MS)).astype(np.int64))
    return created, status, done, completed, last_act


def _ticket_kind(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Issue and sub-issue types, monitoring alerts, source, queue and a title that fits them."""
    issue = rng.choice([4, 5, 6, 7, 8, 9], size=n, p=[0.18, 0.3, 0.14, 0.12, 0.08, 0.18])
    subs: dict[int, list[int]] = {}
    for v, _, p in SUB_ISSUE:
        subs.setdefault(p, []).append(v)
    sub_pick = rng.integers(0, 1000, n).tolist()
    sub_issue = [subs[i][k % len(subs[i])] if k < 850 else None for i, k in zip(issue.tolist(), sub_pick)]
    alert = rng.random(n) < 0.12
    source = np.where(alert, 8, rng.choice([-2, -1, 1, 2, 3, 4, 6], size=n, p=[0.05, 0.2, 0.05, 0.3, 0.05, 0.3, 0.05]))
    queue = np.where(alert, 29682969, rng.choice([5, 6, 8, 29682833, 29683354], size=n, p=[0.2, 0.05, 0.5, 0.2, 0.05]))
    titles = [
        (ALERT_TITLES[k % len(ALERT_TITLES)] if a else PROBLEMS[i][k % len(PROBLEMS[i])])
        for a, i, k in zip(alert.tolist(), issue.tolist(), sub_pick)
    ]
    return {"issue": issue, "sub_issue": sub_issue, "alert": alert, "source": source, "queue": queue, "titles": titles}


def _ticket_numbers(created_iso: list[str]) -> list[str]:
    """``T20260131.0001``: the creation day and a sequence number within that day."""
    day_seq: dict[str, int] = {}
    numbers = []
    for s in created_iso:
        d = s[:10]
        k = day_seq.get(d, 0) + 1
        day_seq[d] = k
        numbers.append(f"T{d[:4]}{d[5:7]}{d[8:10]}.{k:04d}")
    return numbers


def _ticket_links(
    rng: np.random.Generator, plan: Plan, store: Any, comp: list[int], status: list[int]
) -> tuple[list[int | None], list[int | None], list[int | None]]:
    """Contact (of the ticket's company), assigned resource and project of each ticket, or None."""
    n = len(comp)
    # Contacts of the ticket's company (or none): pick by position within the company's contacts.
    contacts_by_company: dict[int, list[int]] = {}
    for cid, c in store["Contacts"].items():
        contacts_by_company.setdefault(c["companyID"], []).append(cid)
    cpick = rng.integers(0, 1 << 30, n).tolist()
    contact: list[int | None] = []
    for c, k in zip(comp, cpick):
        lst = contacts_by_company.get(c)
        contact.append(lst[k % len(lst)] if lst and k % 10 else None)
    res = plan.resource_ids
    assigned = [
        None if (s == 1 and r < 0.7) or r < 0.04 else res[k % len(res)]
        for s, r, k in zip(status, rng.random(n).tolist(), rng.integers(0, 1 << 30, n).tolist())
    ]
    projects_by_company: dict[int, list[int]] = {}
    for pid, p in store["Projects"].items():
        projects_by_company.setdefault(p["companyID"], []).append(pid)
    project = [
        (projects_by_company[c][k % len(projects_by_company[c])] if k % 20 == 0 and c in projects_by_company else None)
        for c, k in zip(comp, cpick)
    ]
    return contact, assigned, project


def _ticket_udfs(rng: np.random.Generator, created: np.ndarray, done: np.ndarray, n: int) -> list[Any]:
    r = rng.random((3, n))
    root = _pick(rng, ROOT_CAUSE, n)
    csat = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.04, 0.06, 0.15, 0.35, 0.4]).tolist()
    follow = _iso(created + rng.integers(1, 60, n) * DAY_MS)
    done_l = done.tolist()
    return _udfs(
        {
            "Root Cause": [x if d and p < 0.45 else None for x, d, p in zip(root, done_l, r[0].tolist())],
            "Customer Satisfaction": [x if d and p < 0.25 else None for x, d, p in zip(csat, done_l, r[1].tolist())],
            "Follow Up Date": [x if p < 0.05 else None for x, p in zip(follow, r[2].tolist())],
        }
    )


def _gen_tasks(plan: Plan, store: Any) -> list[dict[str, Any]]:
    rng = _rng(plan.seed, "Tasks")
    projects = store["Projects"]
    pids = sorted(projects)
    per = rng.integers(3, 10, len(pids))
    owner = np.repeat(np.array(pids), per).tolist()
    n = len(owner)
    pstart = _ms_many([projects[p]["startDateTime"] for p in owner])
    pdone = np.array([projects[p]["status"] == 5 for p in owner])
    start = pstart + rng.integers(0, 60, n) * DAY_MS
    end = start + rng.integers(1, 20, n) * DAY_MS
    done = pdone | ((end < END_MS) & (rng.random(n) < 0.6))
    status = np.where(done, 5, rng.choice([1, 8, 9], size=n, p=[0.5, 0.4, 0.1]))
    cols: dict[str, Sequence[Any]] = {
        "id": _ids(rng, n, 5001).tolist(),
        "projectID": owner,
        "title": _pick(rng, TASKS, n),
        "description": _pick(rng, DESCRIPTIONS, n),
        "status": status.tolist(),
        "assignedResourceID": _pick(rng, plan.resource_ids, n),
        "estimatedHours": (rng.integers(2, 80, n) / 2).tolist(),
        "startDateTime": _iso(start),
        "endDateTime": _iso(end),
        "completedDateTime": _iso_or_none(end, done & (end < END_MS)),
        "createDateTime": _iso(pstart - DAY_MS),
        "taskType": rng.choice([1, 2], size=n, p=[0.8, 0.2]).tolist(),
    }
    return _records(cols)


def _gen_time_entries(plan: Plan, store: Any) -> list[dict[str, Any]]:
    rng = _rng(plan.seed, "TimeEntries")
    tickets = store["Tickets"]
    tasks = store["Tasks"]
    t_ids = np.array(sorted(tickets), dtype=np.int64)
    per_t = rng.poisson(0.9, len(t_ids))
    k_ids = np.array(sorted(tasks), dtype=np.int64)
    per_k = rng.poisson(1.5, len(k_ids))
    on_ticket = np.repeat(t_ids, per_t).tolist()
    # A Task created through the API may have no start: its time is logged from its creation instead.
    starts = {k: tasks[k].get("startDateTime") or tasks[k].get("createDateTime") for k in k_ids.tolist()}
    on_task = [k for k in np.repeat(k_ids, per_k).tolist() if starts[k]]
    base = _ms_many([tickets[t]["createDate"] for t in on_ticket] + [starts[k] for k in on_task])
    n = len(base)
    start = base + rng.integers(0, 10 * DAY_MS, n)
    start = np.minimum(start, END_MS - 2 * DAY_MS)
    start = start - start % (15 * 60_000)  # technicians log in quarter hours
    hours = rng.integers(1, 17, n) / 4
    end = start + (hours * HOUR_MS).astype(np.int64)
    nonbill = rng.random(n) < 0.15
    order = np.argsort(start, kind="stable")  # ids ascend with time of entry
    tick = np.array(on_ticket + [0] * len(on_task), dtype=np.int64)[order]
    task = np.array([0] * len(on_ticket) + on_task, dtype=np.int64)[order]
    start, end, hours, nonbill = start[order], end[order], hours[order], nonbill[order]
    day = start - start % DAY_MS
    res = plan.resource_ids
    cols: dict[str, Sequence[Any]] = {
        "id": _ids(rng, n, 40001).tolist(),
        "ticketID": [t or None for t in tick.tolist()],
        "taskID": [t or None for t in task.tolist()],
        "resourceID": _pick(rng, res, n),
        "billingCodeID": rng.choice(
            [29682801, 29682802, 29682803, 29682804], size=n, p=[0.6, 0.15, 0.2, 0.05]
        ).tolist(),
        "dateWorked": _iso(day),
        "startDateTime": _iso(start),
        "endDateTime": _iso(end),
        "hoursWorked": hours.tolist(),
        "hoursToBill": np.where(nonbill, 0.0, hours).tolist(),
        "isNonBillable": nonbill.tolist(),
        "summaryNotes": _pick(rng, NOTES, n),
        "createDateTime": _iso(end + rng.integers(0, 3 * HOUR_MS, n)),
    }
    return _records(cols)


def _ms_many(isos: list[str]) -> np.ndarray:
    """Vectorised inverse of ``_iso``."""
    return np.array([s[:-1] for s in isos], dtype="datetime64[ms]").astype(np.int64)


GENERATORS: dict[str, Callable[[Plan, Any], list[dict[str, Any]]]] = {
    "Companies": _gen_companies,
    "Contacts": _gen_contacts,
    "Resources": _gen_resources,
    "Projects": _gen_projects,
    "Tickets": _gen_tickets,
    "Tasks": _gen_tasks,
    "TimeEntries": _gen_time_entries,
}


def generate_entity(plan: Plan, entity: str, store: Any) -> list[dict[str, Any]]:
    """Generate one entity's records (id order); ``store`` supplies the entities it links to."""
    if entity not in GENERATORS:
        spec = SCHEMAS[entity]
        return generate_generic(spec, parent_fields(spec), store)
    # Millions of fresh containers would trigger repeated collections of a growing heap; the
    # records hold no cycles, so pause the collector while building them. (No gc.freeze(): that
    # would also pin the host process's garbage, e.g. in a Jupyter kernel.)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return GENERATORS[entity](plan, store)
    finally:
        if enabled:
            gc.enable()
