"""The query language: readable filters in, Autotask JSON filter lists out.

    >>> parse_where("status != 5 and priority in (1, 2)")
    [{'op': 'noteq', 'field': 'status', 'value': 5}, {'op': 'in', 'field': 'priority', 'value': [1, 2]}]

Pure Python (no httpx, pandas or IPython); validation reads ``autotask_magic.entities`` metadata.

    _lexer     words and operators, lexemes, error positions and the caret pointer
    _filter    ParsedFilter: a filter list that remembers where each condition was written
    _parser    recursive descent, :name parameter binding, raw JSON filter input
    _validate  checks against the server's rules and EntityFields metadata
    _render    filter list -> query-language text
"""

from ._filter import ParsedFilter
from ._lexer import MAX_DEPTH, OPERATORS, error_pointer
from ._parser import parse_where
from ._render import render_where
from ._validate import validate_filter

__all__ = ["MAX_DEPTH", "OPERATORS", "ParsedFilter", "error_pointer", "parse_where", "render_where", "validate_filter"]
