"""Facts about Autotask entities, below both the client and the query language.

``EntityFields`` / ``FieldInfo`` describe one entity's fields as a tenant's metadata reports them;
``COMMON_ENTITIES`` and ``suggest_entity`` serve completion and "did you mean"; ``MAX_PAGE_SIZE`` is the
API's page limit. Nothing here does I/O.
"""

from ._api import MAX_PAGE_SIZE
from ._metadata import BOOLEAN_TYPES, DATE_TYPES, FLOAT_TYPES, INTEGER_TYPES, EntityFields, FieldInfo
from ._names import COMMON_ENTITIES, suggest_entity

__all__ = [
    "BOOLEAN_TYPES",
    "COMMON_ENTITIES",
    "DATE_TYPES",
    "FLOAT_TYPES",
    "INTEGER_TYPES",
    "MAX_PAGE_SIZE",
    "EntityFields",
    "FieldInfo",
    "suggest_entity",
]
