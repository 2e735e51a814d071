"""A faithful local emulator of the Autotask REST API, for tests, notebooks, Binder and benchmarks.

    >>> from autotask_magic.sandbox import Sandbox
    >>> with Sandbox(tickets=2000) as sb:
    ...     print(sb.base_url)

Or standalone: ``python -m autotask_magic.sandbox --port 8080``.

The modules, from the data up to the wire:

    _schema       SCHEMAS: every entity's fields, picklists, UDFs and child collections (add entities here)
    _vocabulary   word lists the generators draw from
    _generate     Plan and the seeded, column-wise generator of each entity's records
    _state        Store/Table (records, generated on first use), Stats, Faults, TokenBook, SlidingWindow
    _filters      the server's filter semantics: query bodies compiled to record predicates, coercion
    _request      Request, Reply, Target, Shared and SandboxView (what the HTTP side reads from a Sandbox)
    _auth         token endpoint, zone discovery, authentication of API calls
    _admission    drops, redirects, 429 bursts, concurrency slots, rate windows, latency, injected 5xx;
                  the ThresholdInformation endpoint
    _queries      /query, /query/count, /query/next (cursor cache, page URLs)
    _records      get, create, update, replace, delete, child collections
    _entity_info  /entityInformation, /fields, /userDefinedFields
    _routes       the routing table: method + path pattern -> handler
    _server       ThreadingHTTPServer and the request handler plumbing (read, dispatch, latency, write)
    _sandbox      Sandbox: builds the store, runs the server in a daemon thread, knobs and ground truth
"""

from __future__ import annotations

from ._sandbox import Sandbox
from ._state import Faults, Stats

__all__ = ["Faults", "Sandbox", "Stats"]
