"""The ``Sandbox`` object: builds the data, runs the HTTP server in a daemon thread, exposes knobs."""

from __future__ import annotations

import hashlib
import ssl
import threading
from collections.abc import Iterable
from typing import Any

from ._filters import FilterError, compile_filter, match_ids
from ._generate import Plan, default_company_count, default_resource_count
from ._schema import SCHEMAS, lookup_entity
from ._server import SandboxHTTPServer
from ._shape import renderer
from ._state import Faults, Stats, Store, TokenBook
from ._tls import tls_context

__all__ = ["Sandbox"]

# Generated at start; the rest (Tasks, TimeEntries) on first use, so big benchmark sandboxes start fast.
_EAGER = ("Companies", "Contacts", "Resources", "Projects", "Tickets")


class Sandbox:
    """A local Autotask REST API emulator on 127.0.0.1 (both auth modes, seeded data, fault injection).

    >>> with Sandbox(tickets=2000) as sb:
    ...     env = sb.env("oauth")   # AUTOTASK_* variables for a client

    ``hidden_entities`` (also an attribute) withholds entities of the published surface: their paths,
    top level and under a parent, answer 404 as an entity the server does not know.
    """

    def __init__(
        self,
        tickets: int = 2000,
        companies: int | None = None,
        token_ttl: float = 3600.0,
        latency_ms: float = 0,
        seed: int = 1,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        tls: bool = False,
        hidden_entities: Iterable[str] = (),
    ) -> None:
        self.seed = int(seed)
        #: Entities this server does not serve (answered as unknown: 404 ``Entity 'X' does not exist.``),
        #: like a tenant whose API user lacks them or an older API version; settable at any time.
        self.hidden_entities: frozenset[str] = frozenset(hidden_entities)
        self.token_ttl = float(token_ttl)
        self.port = int(port)
        #: With ``tls=True``: the PEM file of the generated CA that signed the server's certificate.
        self.ca_path: str | None = None
        if tls and ssl_context is None:
            ssl_context, self.ca_path = tls_context()
        self.ssl_context = ssl_context
        self.faults = Faults(latency_ms=latency_ms)
        self.stats = Stats()
        self._tokens = TokenBook()
        h = hashlib.sha256(f"autotask-magic-sandbox:{self.seed}".encode()).hexdigest()
        self.client_id = f"sandbox-client-{h[:12]}"
        self.client_secret = f"sbx-secret-{h[12:44]}"
        self.username = f"api-{h[44:52]}@sandbox.example"
        self.integration_code = h[52:64].upper() + "SANDBOX00000000"[: 26 - 12]
        self.secret = f"Sbx!{h[:6]}{h[-10:]}"
        self.store = Store(
            Plan(
                self.seed,
                int(tickets),
                int(companies) if companies is not None else default_company_count(int(tickets)),
                default_resource_count(int(tickets)),
                api_username=self.username,
            )
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Generate the data (if not yet) and start serving; returns self."""
        with self._lock:
            if self._server is not None:
                return self
            for entity in _EAGER:
                self.store[entity]
            server = SandboxHTTPServer(self, self.port)
            self.port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"autotask-sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: close the listening socket and every live keep-alive connection (idempotent)."""
        with self._lock:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the server thread is serving."""
        return self._server is not None

    # -- URLs and credentials -------------------------------------------------------------------
    @property
    def tickets(self) -> int:
        """How many tickets this sandbox generated (its ``tickets`` argument)."""
        return self.store.plan.tickets

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (https with an ssl_context)."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root, ending with ``/V1.0/``."""
        return self.root_url + "/ATServicesRest/V1.0/"

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return self.root_url + "/ATServicesRest/oauth/token"

    @property
    def zone_url(self) -> str:
        """Zone discovery (API-user mode); answers with this server's own URL."""
        return self.root_url + "/atservicesrest/V1.0/zoneInformation"

    def env(self, mode: str = "oauth") -> dict[str, str]:
        """``AUTOTASK_*`` environment variables for ``mode`` ("oauth" or "api_user")."""
        if mode == "oauth":
            return {
                "AUTOTASK_CLIENT_ID": self.client_id,
                "AUTOTASK_CLIENT_SECRET": self.client_secret,
                "AUTOTASK_TOKEN_URL": self.token_url,
                "AUTOTASK_BASE_URL": self.base_url,
            }
        if mode in ("api_user", "api-user", "apiuser"):
            return {
                "AUTOTASK_USERNAME": self.username,
                "AUTOTASK_INTEGRATION_CODE": self.integration_code,
                "AUTOTASK_SECRET": self.secret,
                "AUTOTASK_ZONE_URL": self.zone_url,
            }
        raise ValueError(f"mode must be 'oauth' or 'api_user', not {mode!r}")

    def api_user_headers(self) -> dict[str, str]:
        """Headers an API-user mode request carries (additive convenience for tests)."""
        return {"ApiIntegrationCode": self.integration_code, "UserName": self.username, "Secret": self.secret}

    # -- tokens ---------------------------------------------------------------------------------
    @property
    def issued_tokens(self) -> list[str]:
        """Every OAuth token ever issued (for leak scans)."""
        return list(self._tokens.issued)

    def issue_token(self, ttl: float | None = None) -> str:
        """A new OAuth token for this sandbox's client, valid ``ttl`` seconds (default ``token_ttl``)."""
        return self._tokens.issue(self.client_id, float(self.token_ttl if ttl is None else ttl))

    def check_token(self, token: str) -> str | None:
        """None when ``token`` is valid, else why not (the ``error_description`` of the 401)."""
        return self._tokens.check(token)

    def revoke_tokens(self) -> None:
        """Every issued token becomes invalid (401 invalid_token, "revoked")."""
        self._tokens.revoke_all()

    def expire_tokens(self) -> None:
        """Every issued token is treated as expired (401 invalid_token, "expired")."""
        self._tokens.expire_all()

    # -- observability --------------------------------------------------------------------------
    def reset_stats(self) -> None:
        """Zero every counter in ``stats``."""
        self.stats.reset()

    def ground_truth(self, entity: str, filter: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Records of ``entity`` matching an Autotask JSON filter list (None -> all), in id order, as sent.

        Uses the server's own semantics (unknown operators ignored, null rules) and answers in the
        wire shapes a query answers in (see ``as_sent``); raises ValueError for a filter the server
        would reject.
        """
        name = lookup_entity(entity)
        if name is None:
            raise ValueError(f"unknown entity {entity!r}")
        spec = SCHEMAS[name]
        table = self.store[name]
        if not filter:
            ids = table.ids
        else:
            try:
                ids = match_ids(table, compile_filter(spec, list(filter)))
            except FilterError as e:
                raise ValueError(str(e)) from None
        render = renderer(spec)
        return [render(table[i]) for i in ids]

    def as_sent(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` (from ``store`` or ``ground_truth``) as the API sends it: every field, wire shapes."""
        name = lookup_entity(entity)
        if name is None:
            raise ValueError(f"unknown entity {entity!r}")
        return renderer(SCHEMAS[name])(record)

    def __repr__(self) -> str:
        state = self.root_url if self.running else "stopped"
        return f"<Sandbox {state} tickets={self.store.plan.tickets} seed={self.seed}>"
