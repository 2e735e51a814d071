"""The declarations every sandbox module reads: ``FieldDef`` (one field), ``ChildSpec`` and ``EntitySpec``."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ChildSpec", "EntitySpec", "FieldDef"]


@dataclass(frozen=True)
class FieldDef:
    """One field of an entity as reported by ``entityInformation/fields`` (or a UDF's metadata)."""

    name: str
    data_type: str  # integer | long | string | datetime | decimal | boolean
    picklist: tuple[tuple[int, str], ...] | None = None
    reference: str | None = None  # the referenced entity (plural, e.g. "Companies")
    required: bool = False
    read_only: bool = False
    parent_field: str | None = None  # picklist whose value filters this picklist
    parent_values: tuple[tuple[int, int], ...] | None = None  # (value, parent value)
    length: int = 0
    inactive: frozenset[int] = frozenset()  # picklist values that are no longer active
    date_only: bool = False  # a date at midnight UTC (``dateWorked``), still ``datetime`` in the metadata
    published: bool = True  # False for a field the sandbox serves but the published surface lacks


@dataclass(frozen=True)
class ChildSpec:
    """``PARENT/{id}/SEGMENT``: the child entity, the child's field holding the parent id, its operations."""

    segment: str
    entity: str
    parent_field: str
    operations: frozenset[str]


@dataclass(eq=False)  # hashed by identity: renderers are cached per spec
class EntitySpec:
    """An entity: its URL name, singular name, fields, UDFs, published operations and child collections."""

    name: str
    singular: str
    fields: list[FieldDef]
    udfs: list[FieldDef] = field(default_factory=list)
    children: dict[str, ChildSpec] = field(default_factory=dict)  # lower-case segment -> child
    operations: frozenset[str] = frozenset()
    #: Whether records carry ``userDefinedFields`` (always, ``[]`` when the entity declares none).
    udf_key: bool = False
    rich: bool = False  # seeded by its own generator in ``_generate`` (else by ``_generic``)
    via_parent: frozenset[str] = frozenset()  # operations offered under a parent's path

    def __post_init__(self) -> None:
        self.by_lower: dict[str, FieldDef] = {f.name.lower(): f for f in self.fields}
        self.udf_by_lower: dict[str, FieldDef] = {f.name.lower(): f for f in self.udfs}
        self.field_names: list[str] = [f.name for f in self.fields]

    def allows(self, operation: str) -> bool:
        """Whether the API publishes ``operation`` on the entity's own path."""
        return operation in self.operations

    @property
    def can_create(self) -> bool:
        """Whether records can be created at all (top level or under a parent)."""
        return "create" in self.operations or "create" in self.via_parent

    @property
    def can_update(self) -> bool:
        """Whether records can be updated (top level or under a parent)."""
        return bool({"update_patch", "update_put"} & (self.operations | self.via_parent))

    @property
    def can_delete(self) -> bool:
        """Whether records can be deleted (top level or under a parent)."""
        return "delete" in self.operations or "delete" in self.via_parent
