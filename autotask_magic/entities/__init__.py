"""Facts about Autotask entities, below both the client and the query language.

``EntityFields`` / ``FieldInfo`` describe one entity's fields as a tenant's metadata reports them;
``entity_names``, ``child_segments`` and ``suggest_entity`` serve completion and "did you mean";
``api_surface()`` is the published API surface (167 entities, their operations, child paths and typed
model fields), shipped as ``api_surface.json``; ``MAX_PAGE_SIZE`` is the API's page limit. No network I/O here.
"""

from ._api import MAX_PAGE_SIZE
from ._dates import DATE_ONLY_FIELDS, is_date_only
from ._metadata import (
    BOOLEAN_TYPES,
    DATE_TYPES,
    FLOAT_TYPES,
    INTEGER_TYPES,
    OBJECT_TYPES,
    EntityFields,
    FieldInfo,
    surface_fields,
)
from ._names import child_entity, child_segments, entity_names, is_published_entity, suggest_entity
from ._surface import ApiSurface, ChildPath, EntitySurface, api_surface, field_kind

__all__ = [
    "BOOLEAN_TYPES",
    "DATE_ONLY_FIELDS",
    "DATE_TYPES",
    "FLOAT_TYPES",
    "INTEGER_TYPES",
    "MAX_PAGE_SIZE",
    "OBJECT_TYPES",
    "ApiSurface",
    "ChildPath",
    "EntityFields",
    "EntitySurface",
    "FieldInfo",
    "api_surface",
    "child_entity",
    "child_segments",
    "entity_names",
    "field_kind",
    "is_date_only",
    "is_published_entity",
    "suggest_entity",
    "surface_fields",
]
