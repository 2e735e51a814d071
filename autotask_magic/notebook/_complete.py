"""Tab completion for ``%autotask``: commands, entity names, and field names once metadata is known."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._commands import METHODS

__all__ = ["completions", "field_names_of", "in_autotask", "matcher_answer", "picklist_of"]


def in_autotask(context: Any) -> bool:
    """True when the cursor is in an ``%autotask`` line or an ``%%autotask`` cell (after the magic's name)."""
    lines = context.full_text.split("\n")
    first = lines[0].lstrip() if lines else ""
    if first.startswith("%%autotask") and context.cursor_line > 0:
        return True
    return re.match(r"%{1,2}autotask\s", context.text_until_cursor.lstrip()) is not None


def completions(
    context: Any,
    entity_names: list[str],
    field_names: Callable[[str], list[str]],
    child_names: Callable[[str], list[str]] = lambda parent: [],
) -> list[str]:
    """Candidates for IPython's completer ``context`` (its ``token``, ``full_text``, ``cursor_line``…).

    ``child_names(PARENT)`` lists the child collections under ``PARENT/{id}/`` (completed in paths).
    """
    token = context.token or ""
    lines = context.full_text.split("\n")
    first = lines[0].lstrip() if lines else ""
    if first.startswith("%%autotask ") and context.cursor_line > 0:  # in a query cell's body
        m = re.match(r"%%autotask\s+query\s+([A-Za-z][A-Za-z0-9]*)", first, re.IGNORECASE)
        if not m:
            return []
        return [n for n in field_names(m.group(1)) if n.lower().startswith(token.lower())]
    before = context.text_until_cursor.lstrip()
    m = re.match(r"%{1,2}autotask\s+(.*)$", before)
    if not m:
        return []
    args = m.group(1)
    if re.fullmatch(r"\S*", args):
        commands = ["query", "fields", *METHODS]
        return [c for c in commands if c.lower().startswith(token.lower())]
    if re.fullmatch(r"(?i)(query|fields)\s+\S*", args):
        return [e for e in entity_names if e.lower().startswith(token.lower())]
    path = re.fullmatch(r"(?i)(?:GET|POST|PATCH|PUT|DELETE)\s+/?((?:[^\s/]+/)*)[A-Za-z]*", args)
    if path:
        # The first segment is an entity; the third, under PARENT/{id}/, one of the parent's child
        # collections (Companies/174/Contacts). The token may include the leading "/" (it depends on
        # the completer's delimiters).
        prefix, _, stem = token.rpartition("/")
        prefix = prefix + "/" if _ else ""
        before = [s for s in path.group(1).split("/") if s]
        names: list[str] = []
        if not before:
            names = entity_names
        elif len(before) == 2:  # a parent's own collections; an entity the surface lacks: any entity
            names = child_names(before[0]) or entity_names
        return [prefix + e for e in names if e.lower().startswith(stem.lower())]
    q = re.match(r"(?i)query\s+([A-Za-z][A-Za-z0-9]*)\s+(.*)$", args)
    if q:
        entity, tail = q.group(1), q.group(2)
        if re.search(r"(?:^|\s)--fields[ =]\S*$", tail) or re.search(r"(?i)(?:^|\s)where\s", tail):
            return [n for n in field_names(entity) if n.lower().startswith(token.lower())]
    return []


def matcher_answer(context: Any, session: Any) -> dict[str, Any]:
    """IPython matcher (API v2) answer for ``AutotaskMagic.complete``: picklist values, entity and field names."""
    from IPython.core.completer import SimpleCompletion

    from ..entities._names import child_segments, entity_names
    from ._complete_values import value_completions

    def picklist(entity: str, field: str) -> dict[Any, str]:
        return picklist_of(session, entity, field)

    def field_names(entity: str) -> list[str]:
        return field_names_of(session, entity)

    empty: dict[str, Any] = {"completions": [], "suppress": False}
    try:
        values = value_completions(context, picklist)
        if values is not None and values[0]:
            return {
                "completions": [SimpleCompletion(c, type="autotask") for c in values[0]],
                "suppress": True,
                "matched_fragment": values[1],
            }
        entities = sorted(set(entity_names()) | session.known_entities)
        candidates = completions(context, entities, field_names, child_segments)
        if not candidates and in_autotask(context) and context.token:
            # Inside %autotask, IPython's other matchers only offer junk (%time for a field name,
            # ConnectionError for a path). IPython suppresses them only for a non-empty answer, so
            # the answer is the word as typed: completing changes nothing.
            candidates = [context.token]
    except Exception:
        return empty
    if not candidates:
        return empty
    return {
        "completions": [SimpleCompletion(c, type="autotask") for c in candidates],
        "suppress": True,
        "matched_fragment": context.token,
    }


def picklist_of(session: Any, entity: str, field: str) -> dict[Any, str]:
    """The picklist (value -> label) of ``entity.field`` from metadata already fetched, else empty."""
    fields = session.cached_fields(entity)
    return fields.picklist(field) if fields is not None else {}


def field_names_of(session: Any, entity: str) -> list[str]:
    """Field names (UDFs as ``udf."Name"``) of ``entity`` from metadata already fetched, else none."""
    fields = session.cached_fields(entity)
    if fields is None:
        return []
    return [*fields.names, *(f'udf."{n}"' for n in getattr(fields, "udf_names", ()))]
