"""The kernel-scoped credential manager: credentials, the OAuth token, limits, and the state it reports.

OAuth tokens live in memory only, inside :class:`~autotask_magic.client._credentials.Secret`. Refresh is
single-flight: whoever finds the token due starts the one fetch; everybody else waits for its result.
"""

from __future__ import annotations

import copy
import enum
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from .. import _redact
from .._exceptions import (
    AuthenticationError,
    AutotaskError,
    ConfigurationError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._auth import ApiUserFlow, OAuthFlow
from ._body import BoundedTransport
from ._credentials import ApiUserCredentials, Credentials, OAuthCredentials
from ._discovery import Zone, discover_zone, read_thresholds
from ._errors import SOLUTION_401, server_messages
from ._limits import DEFAULT_MAX_RESPONSE_BYTES, Clock, Limits, SlidingWindow, SystemClock
from ._retry import RetryPolicy
from ._settings import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    DEFAULT_ZONE_URL,
    api_root,
    check_under_root,
    check_url,
    make_ssl_context,
    origin,
)
from ._tokens import AccessToken, TokenEndpoint, fetch_token, is_invalid_client
from ._zones import known_zone, remember_zone

__all__ = ["CredentialManager", "ManagerConfig", "ManagerStatus", "TokenState"]

log = _redact.get_logger("autotask_magic.auth")

# Token-endpoint failures that say "not now" rather than "these credentials are wrong".
_UNAVAILABLE = (RateLimitError, ServerError, TransportError)
# After such a failure of an early refresh, how long the still-valid token is used without trying again.
_EARLY_RETRY_SECONDS = 30.0

# Token fetch and zone discovery: three tries, short pauses (these calls gate every first request).
_AUTH_ATTEMPTS = 3
_AUTH_BACKOFF = 0.2


class TokenState(enum.Enum):
    """What the status widget shows."""

    LOGGED_OUT = "logged out"
    VALID = "valid"
    EXPIRING = "expiring soon"
    REFRESHING = "refreshing"
    EXPIRED = "expired"
    ERROR = "error"


@dataclass(frozen=True)
class ManagerStatus:
    """A snapshot of the manager's state; safe to display (no secrets)."""

    mode: str
    label: str | None
    identity: str
    api_host: str
    zone: str | None
    state: TokenState
    expires_at: datetime | None
    refresh_margin: float
    refresh_count: int
    last_refresh_at: datetime | None
    requests_last_minute: int
    requests_per_minute_limit: int
    hourly_requests: int | None
    hourly_threshold: int | None
    last_error: str | None


@dataclass(frozen=True)
class ManagerConfig:
    """Where the manager connects and the limits it keeps (every field has the production default).

    URLs left None use Autotask's (API-user mode discovers the API root from ``zone_url``).
    """

    base_url: str | None = None
    token_url: str | None = None
    zone_url: str | None = None
    ca_bundle: str | None = None
    allowed_hosts: tuple[str, ...] = ()  # more hosts a zone answer may name (AUTOTASK_ALLOWED_HOSTS)
    label: str | None = None  # shown in the status panel
    timeout: float = 30.0  # seconds for each whole request (a wall-clock deadline, not per read)
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES  # largest answer body accepted, decoded
    rate_limit: int = 600  # requests per rate_window, all endpoints
    rate_window: float = 60.0
    concurrency_per_endpoint: int = 3
    hourly_threshold: int = 10_000  # API-user mode: the tenant's hourly budget until the API reports it
    token_rate_limit: int = 8  # token requests per token_rate_window
    token_rate_window: float = 60.0
    failure_memory: float = 60.0  # seconds an invalid client / rejected token is answered from memory
    max_token_wait: float = 30.0  # longest wait for a token slot or a token endpoint Retry-After
    refresh_margin: float = 60.0


class _Interrupted(Exception):
    """The leader of a token fetch was interrupted (KeyboardInterrupt); waiters should try again."""


def _clone(exc: BaseException) -> BaseException:
    # Raising one exception object from many threads tangles its traceback; give each its own copy.
    try:
        return copy.copy(exc)
    except Exception:
        return exc


class CredentialManager:
    """One per kernel: holds the credentials and the token, enforces limits, and reports its state.

    ``config`` groups URLs and limits (:class:`ManagerConfig`). ``clock`` is injectable (an object with
    ``monotonic()``, ``time()`` and optionally ``sleep()``); every wait of the manager goes through it.
    ``transport`` replaces the network (tests).
    """

    def __init__(
        self,
        credentials: Credentials,
        config: ManagerConfig | None = None,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(credentials, (OAuthCredentials, ApiUserCredentials)):
            raise ConfigurationError("credentials must be OAuthCredentials or ApiUserCredentials")
        cfg = self.config = config if config is not None else ManagerConfig()
        self.mode: str = credentials.mode
        self.label = cfg.label
        self.clock: Clock = clock or SystemClock()
        self.timeout = cfg.timeout
        self._credentials: Credentials | None = credentials
        self._identity = credentials.identity
        self._set_endpoints(cfg)
        self.zone: str | None = None
        self.ca_bundle = cfg.ca_bundle
        self.ssl_context = make_ssl_context(cfg.ca_bundle)
        api_user = self.mode == "api_user"
        self.limits = Limits(
            rate_limit=cfg.rate_limit,
            rate_window=cfg.rate_window,
            concurrency_per_endpoint=cfg.concurrency_per_endpoint,
            hourly=api_user,
            clock=self.clock,
            on_request=self._on_request,
        )
        self.hourly_threshold: int | None = cfg.hourly_threshold if api_user else None
        self._server_hourly: int | None = None
        self.failure_memory = cfg.failure_memory
        self.max_token_wait = cfg.max_token_wait
        # Token and zone answers are bounded like API answers (deadline and size).
        bounded = BoundedTransport(transport or httpx.HTTPTransport(verify=self.ssl_context), cfg.max_response_bytes)
        self._http = httpx.Client(timeout=cfg.timeout, follow_redirects=False, transport=bounded, trust_env=False)
        self._shared_zones = transport is None  # a mock transport answers for itself (``_zones``)
        self.retry = RetryPolicy(
            attempts=_AUTH_ATTEMPTS,
            base=_AUTH_BACKOFF,
            cap=_AUTH_BACKOFF * 2,
            max_retry_after=cfg.max_token_wait,
            sleep=self._sleep,
        )
        self._token_window = SlidingWindow(cfg.token_rate_limit, cfg.token_rate_window, self.clock)
        self._lock = threading.RLock()
        self._discover_lock = threading.Lock()
        self._token: AccessToken | None = None
        self._had_token = False
        self._inflight: Future[AccessToken] | None = None
        self._early_retry_at = 0.0  # monotonic; no early refresh before it (the last one failed)
        self._failure: AutotaskError | None = None  # remembered failure (invalid client, rejected new token)
        self._failure_until = 0.0
        self._validated = False
        self._logged_out = False
        self.refresh_margin = cfg.refresh_margin
        self._last_error: str | None = None
        self._refresh_count = 0
        self._last_refresh_at: datetime | None = None
        self._subscribers: list[Callable[[ManagerStatus], None]] = []
        self._last_request_notify = float("-inf")
        self.auth: httpx.Auth = OAuthFlow(self) if self.mode == "oauth" else ApiUserFlow(self)

    def _set_endpoints(self, cfg: ManagerConfig) -> None:
        self._discovered = False
        if self.mode == "oauth":
            self.token_url: str | None = str(check_url(cfg.token_url or DEFAULT_TOKEN_URL, what="token URL"))
            self.zone_url: str | None = None
            self._base_url: str | None = api_root(str(check_url(cfg.base_url or DEFAULT_BASE_URL, what="base URL")))
        else:
            self.token_url = None
            self.zone_url = str(check_url(cfg.zone_url or DEFAULT_ZONE_URL, what="zone URL"))
            self._base_url = api_root(str(check_url(cfg.base_url, what="base URL"))) if cfg.base_url else None

    # ------------------------------------------------------------------ observation

    def __repr__(self) -> str:
        return f"<CredentialManager mode={self.mode} identity={self._identity!r} state={self.status().state.value!r}>"

    def subscribe(self, callback: Callable[[ManagerStatus], None]) -> Callable[[], None]:
        """Call ``callback(status)`` on every change (from any thread); returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            return
        status = self.status()
        for callback in subscribers:
            try:
                callback(status)
            except Exception:  # a broken listener must never break a request
                log.exception("status subscriber failed")

    def _on_request(self) -> None:
        # Requests are frequent: notify at most a few times a second so subscribers stay cheap.
        now = self.clock.monotonic()
        with self._lock:
            if now - self._last_request_notify < 0.25:
                return
            self._last_request_notify = now
        self._notify()

    @property
    def refresh_margin(self) -> float:
        """Seconds before expiry at which the OAuth token is refreshed (at most half its lifetime)."""
        return self._refresh_margin

    @refresh_margin.setter
    def refresh_margin(self, seconds: float) -> None:
        seconds = float(seconds)
        if not seconds >= 0:
            raise ConfigurationError(
                f"refresh_margin must be a number of seconds >= 0, got {seconds!r}",
                hint="e.g. %config AutotaskMagic.refresh_margin = 120",
            )
        self._refresh_margin = seconds
        tok = getattr(self, "_token", None)
        if tok is not None:
            tok.margin_cap = seconds

    def status(self) -> ManagerStatus:
        """The current state (cheap; safe to call from any thread)."""
        with self._lock:
            tok = self._token
            hourly = None
            if self.limits.hourly is not None:
                hourly = max(self.limits.hourly.count(), self._server_hourly or 0)
            return ManagerStatus(
                mode=self.mode,
                label=self.label,
                identity=self._identity,
                api_host=_host(self._base_url),
                zone=self.zone,
                state=self._state(),
                expires_at=(datetime.fromtimestamp(tok.expires_wall, UTC) if tok is not None else None),
                refresh_margin=tok.margin if tok is not None else self._refresh_margin,
                refresh_count=self._refresh_count,
                last_refresh_at=self._last_refresh_at,
                requests_last_minute=self.limits.rate.count(),
                requests_per_minute_limit=self.limits.rate.limit,
                hourly_requests=hourly,
                hourly_threshold=self.hourly_threshold,
                last_error=self._last_error,
            )

    def _state(self) -> TokenState:
        # Called with the lock held.
        tok, clock = self._token, self.clock
        if self._logged_out:
            return TokenState.LOGGED_OUT
        if self._inflight is not None:
            return TokenState.REFRESHING
        if self.mode != "oauth":
            if self._last_error:
                return TokenState.ERROR
            return TokenState.VALID if self._validated else TokenState.LOGGED_OUT
        if tok is None:
            failing = self._failure is not None and clock.monotonic() < self._failure_until
            if failing or self._last_error:
                return TokenState.ERROR
            return TokenState.EXPIRED if self._had_token else TokenState.LOGGED_OUT
        if tok.expired(clock):
            return TokenState.EXPIRED
        return TokenState.EXPIRING if tok.due(clock) else TokenState.VALID

    # ------------------------------------------------------------------ lifecycle

    @property
    def credentials(self) -> Credentials | None:
        """The credentials (None after :meth:`logout`)."""
        return self._credentials

    def logout(self) -> None:
        """Forget the token and the credentials; state becomes LOGGED_OUT."""
        with self._lock:
            tok, self._token = self._token, None
            creds, self._credentials = self._credentials, None
            self._logged_out = True
            self._failure = None
            self._last_error = None
        if tok is not None:
            tok.secret.forget()
        if creds is not None:
            creds.forget()
        log.debug("logged out")
        self._notify()

    def close(self) -> None:
        """Close the manager's own HTTP connections (token endpoint, zone discovery)."""
        self._http.close()

    def refresh(self) -> None:
        """Force a token refresh now (OAuth), or re-validate the credentials (API user)."""
        with self._lock:
            self._failure = None
            self._last_error = None
        if self.mode == "oauth":
            self.access_token(force=True)
            return
        if self._discovered:
            with self._lock:
                self._base_url = None
                self._discovered = False
        self._validate_api_user()

    def require_credentials(self) -> Credentials:
        """The credentials to send; raises AuthenticationError after logout or while a failure is remembered."""
        with self._lock:
            creds = self._credentials
            if creds is None or self._logged_out:
                raise AuthenticationError(
                    "logged out: the credentials were forgotten",
                    hint="log in again (%autotask_login) or create a new AutotaskClient",
                )
            if self._failure is not None:
                if self.clock.monotonic() < self._failure_until:
                    raise _clone(self._failure)
                self._failure = None
            return creds

    def _sleep(self, seconds: float) -> None:
        sleep = getattr(self.clock, "sleep", None)
        (sleep or time.sleep)(seconds)

    # ------------------------------------------------------------------ endpoints

    @property
    def known_base_url(self) -> str | None:
        """The API root if already known (configured or discovered), else None; never sends a request."""
        return self._base_url

    def api_base_url(self) -> str:
        """The API root ending with ``/V1.0/``; discovers the zone first in API-user mode."""
        base = self._base_url
        if base:
            return base
        with self._discover_lock:
            if self._base_url:
                return self._base_url
            creds = self.require_credentials()
            assert isinstance(creds, ApiUserCredentials) and self.zone_url is not None
            known = known_zone(self.zone_url, creds.username) if self._shared_zones else None
            try:
                zone = (
                    Zone(*known)
                    if known
                    else discover_zone(self._http, self.zone_url, creds, self.retry, self.config.allowed_hosts)
                )
            except AutotaskError as err:
                if err.status is not None:  # the zone endpoint answered: show it in the status panel
                    with self._lock:
                        self._last_error = _redact.redact(str(err))
                    self._notify()
                raise
            with self._lock:
                self._base_url, self.zone, self._discovered = zone.api_root, zone.name, True
            if self._shared_zones and not known:
                remember_zone(self.zone_url, creds.username, zone.api_root, zone.name)
        self._notify()
        return zone.api_root

    def check_api_origin(self, url: httpx.URL | str) -> None:
        """Refuse (before anything is sent) to attach credentials to a URL outside the API root's origin."""
        base = self.api_base_url()
        if origin(url) != origin(base):
            o = origin(url)
            raise ConfigurationError(
                f"refusing to send credentials to {o[0]}://{o[1]}:{o[2]}: not the configured API host",
                hint="only the configured token, zone and API hosts receive credentials",
            )
        # Same host is not enough: a path outside the API root (e.g. the token endpoint) is refused too.
        check_under_root(str(url), base)

    def _validate_api_user(self) -> None:
        url = self.api_base_url() + "ThresholdInformation"
        with self.limits.request("GET ThresholdInformation"):
            found = read_thresholds(self._http, url, self.auth)
        with self._lock:
            if found.hourly_threshold:
                self.hourly_threshold = found.hourly_threshold
            if found.current_count is not None:
                self._server_hourly = found.current_count
        self._notify()

    # ------------------------------------------------------------------ what the auth flows call

    def access_token(self, *, force: bool = False) -> AccessToken:
        """The current token, fetching one (single-flight) when missing, due, or ``force``d."""
        for _ in range(5):
            with self._lock:
                self.require_credentials()
                tok = self._token
                fut = self._inflight
                if fut is None and tok is not None and not force and not tok.due(self.clock):
                    return tok
                if fut is None and tok is not None and not force and self._early_refresh_blocked(tok):
                    return tok
                leader = fut is None
                if leader:
                    fut = self._inflight = Future()
            assert fut is not None
            if leader:
                try:
                    return self._lead_fetch(fut)
                except _UNAVAILABLE:
                    if (kept := self._kept(tok, force)) is None:
                        raise
                    return kept
            try:
                return fut.result()
            except _Interrupted:
                force = False
            except _UNAVAILABLE as exc:
                if (kept := self._kept(tok, force)) is None:
                    raise _clone(exc) from None
                return kept
            except BaseException as exc:
                raise _clone(exc) from None
        raise AuthenticationError("could not obtain an access token", hint="try again")

    def _kept(self, tok: AccessToken | None, force: bool) -> AccessToken | None:
        """After an early refresh the token endpoint could not serve (429, 5xx, network): ``tok`` when it
        is still valid and the caller did not force a new one, so the call goes on with it rather than
        failing (the refresh is tried again :data:`_EARLY_RETRY_SECONDS` later); else None."""
        if tok is None or force or tok.expired(self.clock):
            return None
        with self._lock:
            self._early_retry_at = self.clock.monotonic() + _EARLY_RETRY_SECONDS
        log.debug("token refresh failed; the current token is still valid and stays in use")
        return tok

    def _early_refresh_blocked(self, tok: AccessToken) -> bool:
        """True when ``tok`` is due but still valid and the client-side token limit has no slot now, or an
        early refresh failed moments ago: the refresh is not yet needed, so it must neither wait nor fail
        a pull (a later call refreshes once a slot is free, or when the token really expires)."""
        if tok.expired(self.clock):
            return False
        return self._token_window.wait_time() > 0 or self.clock.monotonic() < self._early_retry_at

    def _lead_fetch(self, fut: Future[AccessToken]) -> AccessToken:
        self._notify()
        try:
            tok = fetch_token(self._token_endpoint(), self._oauth_credentials, self._refresh_margin)
        except BaseException as exc:
            with self._lock:
                self._inflight = None
                if is_invalid_client(exc):
                    assert isinstance(exc, AutotaskError)
                    self._remember_failure(exc)
                elif isinstance(exc, AutotaskError):
                    self._last_error = _redact.redact(str(exc))
            fut.set_exception(exc if isinstance(exc, Exception) else _Interrupted())
            self._notify()
            raise
        with self._lock:
            old, self._token = self._token, tok
            self._inflight = None
            self._had_token = True
            self._refresh_count += 1
            self._last_refresh_at = datetime.fromtimestamp(self.clock.time(), UTC)
            self._last_error = None
        if old is not None:
            old.secret.forget()
        fut.set_result(tok)
        self._notify()
        return tok

    def _token_endpoint(self) -> TokenEndpoint:
        assert self.token_url is not None
        return TokenEndpoint(self._http, self.token_url, self.clock, self._token_window, self.retry)

    def _oauth_credentials(self) -> OAuthCredentials:
        creds = self.require_credentials()
        assert isinstance(creds, OAuthCredentials)
        return creds

    def _remember_failure(self, err: AutotaskError) -> None:
        with self._lock:
            self._failure = err
            self._failure_until = self.clock.monotonic() + self.failure_memory
            self._last_error = _redact.redact(str(err))

    def token_accepted(self, tok: AccessToken) -> None:
        """An API call succeeded with ``tok``: a later 401 on it means expired, not never valid."""
        tok.confirmed = True

    def token_rejected(self, tok: AccessToken, response: httpx.Response, *, replay: bool) -> bool:
        """Handle a 401 on ``tok``; True when a refresh-and-replay is allowed."""
        brand_new = not tok.confirmed
        words = server_messages(response)
        with self._lock:
            if self._token is tok:
                # Drop it only if nobody replaced it already (another thread may have refreshed).
                self._token = None
            if replay or brand_new:
                # Remembered in the same critical section, so no thread starts a fetch in between.
                self._remember_failure(
                    AuthenticationError(
                        "the API rejected a freshly issued token",
                        status=401,
                        server_messages=words,
                        hint=f"{SOLUTION_401} — the API does not accept tokens from this token endpoint; "
                        "check AUTOTASK_BASE_URL / AUTOTASK_TOKEN_URL, then call refresh()",
                    )
                )
        self._notify()
        return not (replay or brand_new)

    def api_user_answered(self, response: httpx.Response) -> None:
        """Record what the API said to the API-user headers (a 401 puts its words in the status)."""
        status = response.status_code
        changed = False
        with self._lock:
            if status == 401:
                msg = "API-user credentials rejected (HTTP 401)"
                words = server_messages(response)
                if words:
                    msg += ": " + "; ".join(words)
                changed = self._last_error != msg or self._validated
                self._last_error, self._validated = msg, False
            elif status < 400 and not self._validated:
                self._validated, self._last_error, changed = True, None, True
        if changed:
            self._notify()


def _host(base: str | None) -> str:
    if not base:
        return ""
    u = httpx.URL(base)
    return u.host + (f":{u.port}" if u.port else "")
