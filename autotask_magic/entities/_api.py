"""Limits of the Autotask REST API that every layer (client, notebook, sandbox) must agree on."""

from __future__ import annotations

__all__ = ["MAX_PAGE_SIZE"]

#: The most records one query page may hold (``MaxRecords`` is 1-500).
MAX_PAGE_SIZE = 500
