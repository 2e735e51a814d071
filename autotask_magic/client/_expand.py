"""Reference expansion: a readable ``<field>_name`` column next to each reference field asked for.

    >>> df = client.query("Tickets", expand=["companyID", "assignedResourceID"])
    >>> df[["companyID", "companyID_name"]]

References come from the field metadata (``isReference``, ``referenceEntityType`` — the singular
``Company``, mapped to ``Companies`` through ``api_surface()``). The display field is
``Companies.companyName``, first + last name for ``Resources`` and ``Contacts``, and for any other entity
the first ``name``/``title``/``description``-like text field of its metadata; ``companyID=Companies.companyNumber``
overrides it. The distinct ids are fetched with ``id in (...)`` in batches of 500 (one request each, only
``id`` and the display fields), three at a time with ``parallel``, and cached per client for
``client.expand_ttl`` seconds (default 300): a second expansion of the same ids within it sends nothing.
An id that does not resolve gives a missing value, never a wrong name.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError
from ..entities import MAX_PAGE_SIZE, api_surface

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ..entities import EntityFields
    from ._client import AutotaskClient

__all__ = ["DEFAULT_TTL", "Expansion", "NameCache", "expand_frame", "parse_expand", "plan_expansion"]

#: Seconds a fetched name is reused (``client.expand_ttl``, ``%config AutotaskMagic.expand_ttl``).
DEFAULT_TTL = 300.0
#: Distinct ids per ``in`` request (one page each).
BATCH = MAX_PAGE_SIZE

_KNOWN = {"companies": ("companyName",), "resources": ("firstName", "lastName"), "contacts": ("firstName", "lastName")}
_SPEC = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:=\s*([A-Za-z]\w*)\.([A-Za-z_]\w*)\s*)?")


@dataclass(frozen=True)
class Expansion:
    """One reference field to expand: ids in ``field`` -> ``entity`` records -> ``column`` of display text."""

    field: str
    entity: str
    display: tuple[str, ...]

    @property
    def column(self) -> str:
        return f"{self.field}_name"


def parse_expand(specs: str | Sequence[str] | None) -> list[str]:
    """``"companyID,assignedResourceID"`` or a list -> the list of specs (``field`` or ``field=Entity.field``)."""
    if not specs:
        return []
    items = specs.split(",") if isinstance(specs, str) else [s for spec in specs for s in str(spec).split(",")]
    out = [s.strip() for s in items if s.strip()]
    for s in out:
        if not _SPEC.fullmatch(s):
            raise ConfigurationError(
                f"cannot read expand {s!r}",
                hint="write a reference field (companyID) or companyID=Companies.companyNumber",
            )
    return out


def entity_of(reference: str) -> str:
    """The entity (``Companies``) of a ``referenceEntityType`` (``Company``; a plural name is kept)."""
    surface = api_surface()
    for guess in (reference, reference + "s", reference + "es", reference[:-1] + "ies"):
        ent = surface.lookup(guess)
        if ent is not None:
            return ent.name
    return reference


def display_fields(meta: EntityFields) -> tuple[str, ...]:
    """The fields that name a record of ``meta.entity``: known ones first, else a name/title/description."""
    known = _KNOWN.get(meta.entity.lower())
    if known and all(meta.resolve(f) for f in known):
        return known
    text = [f.name for f in meta.fields if f.kind == "string" and not f.picklist]
    singular = meta.entity.lower().rstrip("s")
    for test in (
        lambda n: n.lower() == "name",
        lambda n: n.lower() in (f"{singular}name", f"{meta.entity.lower()}name"),
        lambda n: n.lower().endswith("name"),
        lambda n: n.lower() == "title",
        lambda n: n.lower() == "description",
        lambda n: "name" in n.lower() or "title" in n.lower(),
    ):
        hit = next((n for n in text if test(n)), None)
        if hit is not None:
            return (hit,)
    raise ConfigurationError(
        f"{meta.entity} has no name-like field to show",
        hint="name one: FIELD=Entity.field (e.g. =Companies.companyNumber)",
    )


def plan_expansion(client: AutotaskClient, meta: EntityFields, specs: Sequence[str]) -> list[Expansion]:
    """Each spec checked against the metadata (a reference field, a known display field)."""
    plans = []
    for spec in specs:
        m = _SPEC.fullmatch(spec)
        assert m is not None  # parse_expand checked it
        info = meta.get(m.group(1), udf=False)
        if info is None or not info.is_reference or not info.reference_entity:
            refs = [f.name for f in meta.fields if f.is_reference][:6]
            raise ConfigurationError(
                f"cannot expand {m.group(1)!r}: not a reference field of {meta.entity}",
                hint=f"reference fields: {', '.join(refs)}" if refs else f"{meta.entity} has no reference fields",
            )
        entity = entity_of(m.group(2) or info.reference_entity)
        target = client.fields(entity)
        if m.group(3):
            name = target.resolve(m.group(3))
            if name is None:
                guess = target.suggest(m.group(3))
                raise ConfigurationError(
                    f"unknown field {m.group(3)!r} of {entity} in --expand {spec}",
                    hint=f"did you mean {guess}?" if guess else f"%autotask fields {entity} lists them",
                )
            display: tuple[str, ...] = (name,)
        else:
            display = display_fields(target)
        plans.append(Expansion(info.name, entity, display))
    return plans


class NameCache:
    """Fetched display names per (entity, display fields), each with the time it was fetched."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._names: dict[tuple[str, tuple[str, ...]], dict[int, tuple[Any, float]]] = {}
        self._lock = threading.Lock()

    def get(self, plan: Expansion, ids: Sequence[int], ttl: float) -> tuple[dict[int, Any], list[int]]:
        """The names still fresh for ``ids``, and the ids to fetch."""
        now = self.clock()
        with self._lock:
            table = self._names.get((plan.entity, plan.display), {})
            fresh = {i: table[i][0] for i in ids if i in table and now - table[i][1] < ttl}
        return fresh, [i for i in ids if i not in fresh]

    def put(self, plan: Expansion, names: dict[int, Any]) -> None:
        now = self.clock()
        with self._lock:
            table = self._names.setdefault((plan.entity, plan.display), {})
            table.update({i: (n, now) for i, n in names.items()})


def _cache(client: AutotaskClient) -> NameCache:
    cache = client.__dict__.get("_name_cache")
    if cache is None:
        cache = client.__dict__.setdefault("_name_cache", NameCache())
    return cache


def _fetch(client: AutotaskClient, plan: Expansion, batch: list[int], *, counter: list[int]) -> dict[int, Any]:
    """One ``id in (...)`` request of up to 500 ids: id -> display text (ids not found: missing)."""
    names: dict[int, Any] = dict.fromkeys(batch)
    flt = [{"op": "in", "field": "id", "value": batch}]
    for rec in client.records(plan.entity, flt, ["id", *plan.display], _counter=counter):
        parts = [str(rec.get(f)).strip() for f in plan.display if rec.get(f) not in (None, "")]
        names[int(rec["id"])] = " ".join(p for p in parts if p) or None
    return names


def expand_frame(
    client: AutotaskClient,
    df: pandas.DataFrame,
    meta: EntityFields,
    specs: Sequence[str],
    *,
    parallel: bool = False,
) -> dict[str, int]:
    """Insert ``<field>_name`` after each expanded field of ``df`` (in place); requests sent per field."""
    import pandas as pd

    plans = plan_expansion(client, meta, parse_expand(specs))
    ttl = float(getattr(client, "expand_ttl", DEFAULT_TTL))
    cache = _cache(client)
    sent: dict[str, int] = {}
    for plan in plans:
        if plan.field not in df.columns:
            raise ConfigurationError(
                f"cannot expand {plan.field}: the frame has no such column", hint=f"add {plan.field} to --fields"
            )
        col = df[plan.field]
        ids = sorted({int(v) for v in col.dropna().tolist()})
        names, missing = cache.get(plan, ids, ttl)
        batches = [missing[k : k + BATCH] for k in range(0, len(missing), BATCH)]
        counter = [0]
        if parallel and len(batches) > 1:
            # The client's limiter holds each endpoint to 3 requests in flight.
            with ThreadPoolExecutor(max_workers=3, thread_name_prefix="autotask-expand") as pool:
                fetched = list(pool.map(functools.partial(_fetch, client, plan, counter=counter), batches))
        else:
            fetched = [_fetch(client, plan, b, counter=counter) for b in batches]
        for part in fetched:
            cache.put(plan, part)
            names.update(part)
        sent[plan.field] = counter[0]
        values = [None if pd.isna(v) else names.get(int(v)) for v in col.tolist()]
        if plan.column in df.columns:
            del df[plan.column]
        df.insert(df.columns.get_loc(plan.field) + 1, plan.column, pd.Series(values, index=df.index, dtype="str"))
    return sent
