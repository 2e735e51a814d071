"""The notebook's session: which client is logged in, the sandbox it may run, and how clients are made.

``%autotask_login`` (a ``LoginCommand``), the automatic login on the first ``%autotask`` and
``%autotask_logout`` all go through ``Session``. The login mode is decided in one place for every
path (``client._mode.infer_mode``). Front-end pieces (prompts, the client class, the sandbox class)
come in as ``Seams`` so tests drive a session without a kernel.
"""

from __future__ import annotations

import getpass as _getpass
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._exceptions import ConfigurationError, NotFoundError
from ..client._credentials import Secret, read_env
from ..entities._names import is_published_entity, suggest_entity
from ._commands import LoginCommand
from ._login import not_logged_in_error, plan_login

__all__ = ["ClientLike", "ManagerLike", "Seams", "Session", "SessionConfig"]


class ManagerLike(Protocol):
    """What the notebook uses of a ``CredentialManager``."""

    @property
    def credentials(self) -> Any: ...

    @property
    def known_base_url(self) -> str | None: ...

    def status(self) -> Any: ...

    def refresh(self) -> None: ...

    def logout(self) -> None: ...


class ClientLike(Protocol):
    """What the notebook uses of an ``AutotaskClient`` (tests inject their own through ``client_factory``)."""

    page_size: int

    @property
    def manager(self) -> ManagerLike: ...

    def request(self, method: str, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any: ...

    def fields(self, entity: str) -> Any: ...

    def count(self, entity: str, filter: Sequence[dict[str, Any]] | None = None) -> int: ...

    def records(
        self,
        entity: str,
        filter: Sequence[dict[str, Any]] | None = None,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        *,
        on_page: Callable[[Any], None] | None = None,
        parallel: bool = False,
    ) -> Iterable[dict[str, Any]]: ...

    def query(
        self,
        entity: str,
        *,
        filter: Sequence[dict[str, Any]] | None = None,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        labels: bool = False,
        tz: str = "UTC",
        parallel: bool = False,
        on_page: Callable[[Any], None] | None = None,
    ) -> Any: ...

    def close(self) -> None: ...


class SessionConfig(Protocol):
    """The ``AutotaskMagic`` options a session reads (traitlets, so ``%config`` changes apply live)."""

    base_url: str | None
    token_url: str | None
    zone_url: str | None
    ca_bundle: str | None
    timeout: float
    max_response_bytes: int
    page_size: int
    default_mode: str
    autologin: bool
    sandbox_tickets: int
    sandbox_token_ttl: float
    sandbox_latency_ms: int

    @property
    def refresh_margin(self) -> float | None: ...  # read-only here: traitlets types it as int | None


@dataclass
class Seams:
    """Everything that talks to a front end or builds the client; None means the real thing."""

    display: Callable[..., Any] | None = None
    client_factory: Callable[..., ClientLike] | None = None
    widget_factory: Callable[[Any], Any] | None = None
    sandbox_factory: Callable[..., Any] | None = None
    input: Callable[[str], str] | None = None
    getpass: Callable[[str], str] | None = None
    can_prompt: Callable[[], bool] | None = None
    environ: Mapping[str, str] | None = None


class Session:
    """The logged-in client (or None), the sandbox it started, and the field metadata it fetched."""

    def __init__(self, config: SessionConfig, seams: Seams, shell: Any = None) -> None:
        self.config = config
        self.seams = seams
        self.shell = shell
        self.client: ClientLike | None = None
        self.sandbox: Any = None
        self.lock = threading.RLock()
        self.fields_cache: dict[tuple[str, str], Any] = {}
        self.known_entities: set[str] = set()

    # ------------------------------------------------------------------------ login / logout
    def login(self, cmd: LoginCommand) -> ClientLike:
        """Make the client ``cmd`` asks for, check it (unless ``--no-check``), make it current."""
        client = self._sandbox_client(cmd) if cmd.sandbox else self._env_client(cmd)
        try:
            if not cmd.no_check:
                # OAuth: the first token; API user: zone discovery (unless a base URL is set) and one
                # cheap request. A typo fails here, with the server's explanation.
                client.manager.refresh()
        except BaseException:
            close_quietly(client)
            raise
        with self.lock:
            old, self.client = self.client, client
        if old is not None and old is not client:
            close_quietly(old)
        return client

    def logout(self, *, keep_sandbox: bool = False) -> bool:
        """Forget token and credentials, close the client; False when nobody was logged in."""
        with self.lock:
            client, self.client = self.client, None
        if client is not None:
            try:
                client.manager.logout()
            finally:
                close_quietly(client)
        if not keep_sandbox:
            self.stop_sandbox()
        return client is not None

    def close(self) -> None:
        """Close the client and stop the sandbox (``%unload_ext``)."""
        with self.lock:
            client, self.client = self.client, None
        if client is not None:
            close_quietly(client)
        self.stop_sandbox()

    def stop_sandbox(self) -> None:
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            try:
                sandbox.stop()
            except Exception:
                pass

    def ensure_client(self) -> ClientLike:
        """The current client; without one, log in from the environment (no prompts) or say how."""
        with self.lock:
            if self.client is not None:
                return self.client
            if not self.config.autologin:
                raise not_logged_in_error()
            env = self.environment()
            from ..client._mode import infer_mode

            # The same decision as %autotask_login and from_env(): both sets complete is refused.
            if infer_mode(env) is None:
                raise not_logged_in_error()
            plan = plan_login(
                mode=None,
                overrides=self._config_urls(),
                environ=env,
                prompt_allowed=False,
                ask=self.ask,
                ask_secret=self.ask_secret,
                default_mode=self.config.default_mode,
            )
            self.client = self.make_client(plan.env, mode=plan.mode)
            return self.client

    def _config_urls(self) -> dict[str, str | None]:
        c = self.config
        return {
            "AUTOTASK_BASE_URL": c.base_url,
            "AUTOTASK_TOKEN_URL": c.token_url,
            "AUTOTASK_ZONE_URL": c.zone_url,
            "AUTOTASK_CA_BUNDLE": c.ca_bundle,
        }

    def _env_client(self, cmd: LoginCommand) -> ClientLike:
        overrides = self._config_urls()
        for key, value in (
            ("AUTOTASK_BASE_URL", cmd.base_url),
            ("AUTOTASK_TOKEN_URL", cmd.token_url),
            ("AUTOTASK_ZONE_URL", cmd.zone_url),
            ("AUTOTASK_CA_BUNDLE", cmd.ca_bundle),
        ):
            overrides[key] = value or overrides[key]
        overrides.update(
            AUTOTASK_CLIENT_ID=cmd.client_id,
            AUTOTASK_USERNAME=cmd.username,
            AUTOTASK_IMPERSONATION_RESOURCE_ID=cmd.impersonate,
        )
        mode = cmd.mode
        # An identifier on the line says which mode is meant.
        if mode is None and cmd.client_id:
            mode = "oauth"
        elif mode is None and cmd.username:
            mode = "api_user"
        plan = plan_login(
            mode=mode,
            overrides=overrides,
            environ=self.environment(),
            prompt_allowed=self.prompt_allowed(),
            ask=self.ask,
            ask_secret=self.ask_secret,
            default_mode=self.config.default_mode,
        )
        return self.make_client(plan.env, mode=plan.mode)

    def _sandbox_client(self, cmd: LoginCommand) -> ClientLike:
        from ..client._mode import normalize_mode

        mode = normalize_mode(cmd.mode) if cmd.mode else "oauth"
        with self.lock:
            sandbox = self.sandbox
            if sandbox is None or (cmd.tickets is not None and getattr(sandbox, "tickets", None) != cmd.tickets):
                if sandbox is not None:
                    self.stop_sandbox()
                sandbox = self._start_sandbox(cmd.tickets if cmd.tickets is not None else self.config.sandbox_tickets)
                self.sandbox = sandbox
            # Lifetime and latency are live settings of a running sandbox: a re-login changes them
            # without regenerating the data (tokens already issued keep their expiry).
            ttl = cmd.token_ttl if cmd.token_ttl is not None else self.config.sandbox_token_ttl
            sandbox.token_ttl = float(ttl)
            sandbox.faults.latency_ms = cmd.latency if cmd.latency is not None else self.config.sandbox_latency_ms
        return self.make_client(read_env(sandbox.env(mode=mode)), mode=mode, label="sandbox")

    def _start_sandbox(self, tickets: int) -> Any:
        if self.seams.sandbox_factory is not None:
            return self.seams.sandbox_factory(tickets=tickets)
        from ..sandbox import Sandbox

        return Sandbox(tickets=tickets).start()

    def make_client(self, env: Mapping[str, str | Secret], *, mode: str, label: str | None = None) -> ClientLike:
        """A client for ``env`` in ``mode``, with the magic's timeout, page size and refresh margin."""
        from ..client._settings import Settings

        try:
            # The environment may hold the other mode's variables too; the chosen mode decides.
            settings = Settings.from_env(env, mode=mode)
        except ConfigurationError:
            raise
        except ValueError as exc:  # e.g. a non-numeric impersonation resource id
            raise ConfigurationError(f"invalid login setting: {exc}") from None
        factory = self.seams.client_factory
        if factory is None:
            from ..client._client import AutotaskClient

            factory = AutotaskClient  # the real client satisfies ClientLike
        client = factory(
            settings.credentials,
            base_url=settings.base_url,
            token_url=settings.token_url,
            zone_url=settings.zone_url,
            ca_bundle=settings.ca_bundle,
            allowed_hosts=settings.allowed_hosts,
            timeout=self.config.timeout,
            max_response_bytes=self.config.max_response_bytes,
            label=label,
        )
        self.apply_config(client)
        return client

    def apply_config(self, client: ClientLike) -> None:
        """Push ``refresh_margin`` and ``page_size`` into a client (at login and on ``%config``)."""
        manager = getattr(client, "manager", None)
        margin = self.config.refresh_margin
        if margin is not None and manager is not None and hasattr(manager, "refresh_margin"):
            try:
                manager.refresh_margin = float(margin)
            except (AttributeError, TypeError):
                pass
        if hasattr(client, "page_size"):
            try:
                client.page_size = self.config.page_size
            except (AttributeError, TypeError):
                pass

    # ------------------------------------------------------------------------ prompts, environment
    def environment(self) -> dict[str, str | Secret]:
        """The ``AUTOTASK_*`` variables, secrets wrapped in ``Secret`` (never the whole ``os.environ``)."""
        return read_env(os.environ if self.seams.environ is None else self.seams.environ)

    def prompt_allowed(self) -> bool:
        if self.seams.can_prompt is not None:
            return bool(self.seams.can_prompt())
        from ._login import can_prompt

        return can_prompt(self.shell)

    def ask(self, text: str) -> str:
        if self.seams.input is not None:
            return self.seams.input(text)
        kernel = getattr(self.shell, "kernel", None)
        if kernel is not None:
            return str(kernel.raw_input(text))
        return input(text)

    def ask_secret(self, text: str) -> str:
        if self.seams.getpass is not None:
            return self.seams.getpass(text)
        kernel = getattr(self.shell, "kernel", None)
        if kernel is not None:
            return str(kernel.getpass(text))
        return _getpass.getpass(text)

    # ------------------------------------------------------------------------ what the session knows
    def secrets(self) -> list[str]:
        """Values to scrub from anything rendered: the live credentials, if any."""
        out: list[str] = []
        creds = getattr(getattr(self.client, "manager", None), "credentials", None)
        for attr in ("client_secret", "secret", "integration_code"):
            reveal = getattr(getattr(creds, attr, None), "reveal", None)
            if callable(reveal):
                try:
                    out.append(reveal())
                except Exception:
                    pass
        return out

    def api_root(self) -> str | None:
        """The API root if it is already known, without triggering zone discovery (a request)."""
        manager = getattr(self.client, "manager", None)
        value = getattr(manager, "known_base_url", None)
        return value if isinstance(value, str) and value else None

    def mode(self) -> str | None:
        try:
            return str(self.client.manager.status().mode) if self.client is not None else None
        except Exception:
            return None

    def _cache_key(self, client: ClientLike, entity: str) -> tuple[str, str]:
        host = ""
        try:
            host = getattr(client.manager.status(), "api_host", "") or ""
        except Exception:
            pass
        return (host or str(id(client)), entity.lower())

    def cached_fields(self, entity: str) -> Any:
        """Field metadata already fetched for ``entity`` in this kernel (no request), or None."""
        client = self.client
        if client is not None:
            hit = self.fields_cache.get(self._cache_key(client, entity))
            if hit is not None:
                return hit
        lowered = entity.lower()
        for (_, name), fields in self.fields_cache.items():
            if name == lowered:
                return fields
        return None

    def entity_fields(self, client: ClientLike, entity: str) -> Any:
        """Field metadata for ``entity`` (fetched once per API host); an unknown entity gets a suggestion."""
        key = self._cache_key(client, entity)
        fields = self.fields_cache.get(key)
        if fields is None:
            try:
                fields = client.fields(entity)
            except NotFoundError as exc:
                guess = suggest_entity(entity, self.known_entities)
                if is_published_entity(entity) or entity in self.known_entities:
                    hint = (
                        f"{entity} is an Autotask entity, but this server does not serve it (check the user's rights)"
                    )
                elif guess:
                    hint = f"did you mean {guess}?"
                else:
                    hint = "check the entity name (plural, e.g. Tickets)"
                raise NotFoundError(
                    f"unknown entity {entity!r}", status=exc.status, request=exc.request, hint=hint
                ) from exc
            self.fields_cache[key] = fields
            self.known_entities.add(getattr(fields, "entity", None) or entity)
        return fields


def close_quietly(client: Any) -> None:
    try:
        client.close()
    except Exception:
        pass
