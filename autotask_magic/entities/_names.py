"""Entity names and child paths of the published API, for tab completion and "did you mean" hints.

    >>> "ConfigurationItems" in entity_names(), suggest_entity("TicketNote")
    (True, 'TicketNotes')
    >>> child_segments("Companies")[:3]
    ['Alerts', 'Attachments', 'Contacts']

Every name comes from the packaged surface (``_surface.api_surface``: 167 entities). Not a gate: a
tenant may serve newer entities, so nothing is refused because it is missing here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache

from ._surface import api_surface

__all__ = ["child_entity", "child_segments", "entity_names", "is_published_entity", "suggest_entity"]


@cache
def entity_names() -> tuple[str, ...]:
    """Every entity of the published surface, sorted."""
    return tuple(sorted(api_surface()))


def is_published_entity(name: str) -> bool:
    """Whether ``name`` (exact spelling) is an entity of the published surface."""
    return name in api_surface()


def child_segments(parent: str) -> list[str]:
    """The child collections under ``PARENT/{id}/`` (``Companies`` -> Alerts, Attachments, Contacts…), sorted."""
    ent = api_surface().lookup(parent)
    return sorted(ent.children) if ent is not None else []


def child_entity(parent: str, segment: str) -> str | None:
    """The entity of the records at ``PARENT/{id}/SEGMENT`` (``Tickets``, ``Notes`` -> ``TicketNotes``), or None."""
    ent = api_surface().lookup(parent)
    if ent is None:
        return None
    child = {seg.lower(): c for seg, c in ent.children.items()}.get(segment.lower())
    return child.entity if child is not None else None


def suggest_entity(name: str, known: Iterable[str] = ()) -> str | None:
    """The closest entity name to ``name`` (case-insensitive), or None; never ``name`` itself."""
    names = list(dict.fromkeys([*known, *entity_names()]))
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    # Never the input itself: "did you mean TicketNotes?" for TicketNotes helps nobody.
    others = [low for low in lowered if low != name.lower()]
    match = difflib.get_close_matches(name.lower(), others, n=1, cutoff=0.75)
    return lowered[match[0]] if match else None
