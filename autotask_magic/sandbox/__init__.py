"""A faithful local emulator of the Autotask REST API, for tests, notebooks, Binder and benchmarks.

It serves every entity, field and child path of the published API (167 entities, 85 child paths) with
the published operations only, in the shapes recorded on live tenants.

    >>> from autotask_magic.sandbox import Sandbox
    >>> with Sandbox(tickets=2000) as sb:
    ...     print(sb.base_url)

Or standalone: ``python -m autotask_magic.sandbox --port 8080``.

The modules, from the data up to the wire:

    _spec         FieldDef, ChildSpec, EntitySpec: the declarations every module reads
    _published    every entity of the published surface as an EntitySpec (safe facts where none are declared)
    _schema       SCHEMAS: the seven analysis entities declared by hand (picklists, UDFs), then all 167
    _vocabulary   word lists the generators draw from
    _generate     Plan and the seeded, column-wise generator of each analysis entity's records
    _generic      three deterministic records for each other entity, generated on first use
    _shape        how a stored record goes on the wire (every field, trimmed dates, string UDFs)
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
    _tls          --tls: a generated CA and certificate for 127.0.0.1 (the [tls] extra)
    _sandbox      Sandbox: builds the store, runs the server in a daemon thread, knobs and ground truth
"""

from __future__ import annotations

from ._sandbox import Sandbox
from ._state import Faults, Stats

__all__ = ["Faults", "Sandbox", "Stats"]
