"""The published API surface: every entity's operations, child paths and model fields with types.

    >>> tasks = api_surface()["Tasks"]
    >>> "create" in tasks.operations, tasks.children["Notes"].entity
    (False, 'TaskNotes')
    >>> api_surface().create_paths("Tasks")
    ['Projects/{id}/Tasks']

Loaded once from ``api_surface.json`` (shipped in this package, extracted from the Autotask REST API's
published Swagger definition). It holds only what the definition publishes; required, read-only,
reference and picklist facts differ per tenant and always come from the tenant's
``entityInformation/fields``. Both the client and the sandbox read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

__all__ = [
    "OPERATIONS",
    "ApiSurface",
    "ChildPath",
    "EntitySurface",
    "api_surface",
    "field_kind",
]

#: Operation names as the surface file spells them.
OPERATIONS = ("query", "count", "get", "get_all", "create", "update_patch", "update_put", "delete", "metadata")

# Swagger type -> broad kind (the same kinds as ``FieldInfo.kind``, plus "bytes" and "object").
_KINDS = {
    "integer/int32": "integer",
    "integer/int64": "integer",
    "number/double": "float",
    "boolean": "boolean",
    "string": "string",
    "string/date-time": "datetime",
    "string/byte": "bytes",
    "array": "object",
    "object": "object",
}


def field_kind(swagger_type: str) -> str:
    """The broad kind of a Swagger field type: integer, float, boolean, string, datetime, bytes or object."""
    return _KINDS.get(swagger_type, "string")


@dataclass(frozen=True)
class ChildPath:
    """``PARENT/{parentId}/SEGMENT``: a child collection and the operations the API offers on it."""

    parent: str
    segment: str
    entity: str
    operations: frozenset[str]

    def path(self, parent_id: object = "{id}") -> str:
        """The relative path of the collection, e.g. ``Projects/{id}/Tasks``."""
        return f"{self.parent}/{parent_id}/{self.segment}"


@dataclass(frozen=True)
class EntitySurface:
    """One entity: its top-level operations, model fields (name -> Swagger type) and child paths."""

    name: str
    operations: frozenset[str]
    fields: Mapping[str, str]
    children: Mapping[str, ChildPath] = field(default_factory=dict)

    @property
    def has_udfs(self) -> bool:
        """Whether the model can carry ``userDefinedFields``."""
        return "userDefinedFields" in self.fields

    def allows(self, operation: str) -> bool:
        """Whether the API offers ``operation`` on ``ENTITY`` itself (not through a parent)."""
        return operation in self.operations


class ApiSurface(Mapping[str, EntitySurface]):
    """All entities of the published API, looked up by name (case-insensitively with :meth:`lookup`)."""

    def __init__(self, entities: Mapping[str, EntitySurface]) -> None:
        self._entities = dict(entities)
        self._lower = {name.lower(): name for name in self._entities}
        parents: dict[str, list[ChildPath]] = {}
        for ent in self._entities.values():
            for child in ent.children.values():
                parents.setdefault(child.entity, []).append(child)
        self._parents = parents

    def __getitem__(self, name: str) -> EntitySurface:
        return self._entities[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entities)

    def __len__(self) -> int:
        return len(self._entities)

    def lookup(self, name: str) -> EntitySurface | None:
        """The entity spelled ``name`` in any case, or None."""
        canon = self._lower.get(name.lower())
        return self._entities[canon] if canon is not None else None

    def child_paths(self, entity: str) -> list[ChildPath]:
        """Every ``PARENT/{id}/SEGMENT`` collection whose records are ``entity``."""
        return list(self._parents.get(entity, ()))

    def create_paths(self, entity: str) -> list[str]:
        """Where ``entity`` records are created: ``ENTITY`` itself and/or parent paths."""
        ent = self.lookup(entity)
        paths = [ent.name] if ent is not None and ent.allows("create") else []
        paths += [c.path() for c in self.child_paths(ent.name if ent else entity) if "create" in c.operations]
        return paths

    @property
    def field_count(self) -> int:
        """Model fields over all entities."""
        return sum(len(e.fields) for e in self._entities.values())

    @property
    def child_path_count(self) -> int:
        """Parent/child collections over all entities."""
        return sum(len(e.children) for e in self._entities.values())


@cache
def api_surface() -> ApiSurface:
    """The packaged surface (parsed on first use, then shared)."""
    raw = json.loads(resources.files("autotask_magic.entities").joinpath("api_surface.json").read_text("utf-8"))
    entities = {}
    for name, spec in raw["entities"].items():
        children = {
            seg: ChildPath(name, seg, ch["entity"], frozenset(ch["operations"]))
            for seg, ch in spec.get("children", {}).items()
        }
        entities[name] = EntitySurface(name, frozenset(spec["operations"]), dict(spec["fields"]), children)
    return ApiSurface(entities)
