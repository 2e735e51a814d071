"""The query language: readable filters in, Autotask JSON filter lists out.

    >>> parse_where("status != 5 and priority in (1, 2)")
    [{'op': 'noteq', 'field': 'status', 'value': 5}, {'op': 'in', 'field': 'priority', 'value': [1, 2]}]

Pure Python (no httpx, pandas or IPython); validation reads ``autotask_magic.entities`` metadata.
"""

from ._query import (
    MAX_DEPTH,
    OPERATORS,
    ParsedFilter,
    error_pointer,
    parse_where,
    render_where,
    validate_filter,
)

__all__ = ["MAX_DEPTH", "OPERATORS", "ParsedFilter", "error_pointer", "parse_where", "render_where", "validate_filter"]
