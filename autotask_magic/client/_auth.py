"""The kernel-scoped credential manager and the two ``httpx.Auth`` flows (OAuth bearer, API-user headers).

OAuth tokens live in memory only, inside :class:`~autotask_magic._credentials.Secret`. Refresh is
single-flight: whoever finds the token due starts the one fetch; everybody else waits for its result.
"""

from __future__ import annotations

import copy
import enum
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

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
from ._credentials import ApiUserCredentials, Credentials, OAuthCredentials, Secret
from ._limits import Clock, Limits, SlidingWindow, SystemClock
from ._retry import is_retryable_exception, is_tls_error, parse_retry_after
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

__all__ = ["ApiUserFlow", "CredentialManager", "ManagerStatus", "OAuthFlow", "TokenState"]

log = _redact.get_logger("autotask_magic.auth")

# The spec's "Solution" column.
SOLUTION_401 = "Solution: Invalid or expired token"
SOLUTION_403 = "Solution: Insufficient permissions"
SOLUTION_400 = "Solution: Invalid client credentials"


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


@dataclass(eq=False)
class _Token:
    """An access token and when it was requested (monotonic and wall clock)."""

    secret: Secret
    sent_mono: float
    sent_wall: float
    lifetime: float
    confirmed: bool = False  # an API call has succeeded with it
    margin_cap: float = 60.0  # the manager's refresh_margin

    @property
    def margin(self) -> float:
        """Seconds before expiry at which to refresh: the cap, but never more than half the lifetime."""
        return min(self.margin_cap, self.lifetime / 2)

    def due(self, clock: Clock) -> bool:
        # Both clocks: monotonic survives wall-clock jumps; the wall clock notices a sleeping laptop
        # (Linux's monotonic clock stops during suspend).
        left = self.lifetime - self.margin
        return clock.monotonic() >= self.sent_mono + left or clock.time() >= self.sent_wall + left

    def expired(self, clock: Clock) -> bool:
        return clock.monotonic() >= self.sent_mono + self.lifetime or clock.time() >= self.sent_wall + self.lifetime


class _Interrupted(Exception):
    """The leader of a token fetch was interrupted (KeyboardInterrupt); waiters should try again."""


def _clone(exc: BaseException) -> BaseException:
    # Raising one exception object from many threads tangles its traceback; give each its own copy.
    try:
        return copy.copy(exc)
    except Exception:
        return exc


def _server_words(response: httpx.Response) -> list[str]:
    try:
        data = response.json()
    except Exception:
        text = response.text.strip()
        return [_redact.redact(text[:200])] if text else []
    words: list[str] = []
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list):
            words += [str(e) for e in data["errors"]]
        for key in ("error", "error_description", "message", "Message"):
            if data.get(key):
                words.append(str(data[key]))
    return [_redact.redact(w) for w in words]


class CredentialManager:
    """One per kernel: holds the credentials and the token, enforces limits, and reports its state.

    ``clock`` is injectable (an object with ``monotonic()``, ``time()`` and optionally ``sleep()``).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        zone_url: str | None = None,
        ca_bundle: str | None = None,
        label: str | None = None,
        clock: Clock | None = None,
        timeout: float = 30.0,
        rate_limit: int = 600,
        rate_window: float = 60.0,
        concurrency_per_endpoint: int = 3,
        hourly_threshold: int = 10_000,
        token_rate_limit: int = 8,
        token_rate_window: float = 60.0,
        failure_memory: float = 60.0,
        max_token_wait: float = 30.0,
        refresh_margin: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(credentials, (OAuthCredentials, ApiUserCredentials)):
            raise ConfigurationError("credentials must be OAuthCredentials or ApiUserCredentials")
        self.mode: str = credentials.mode
        self.label = label
        self.clock: Clock = clock or SystemClock()
        self.timeout = timeout
        self._credentials: Credentials | None = credentials
        self._identity = credentials.identity
        if self.mode == "oauth":
            self.token_url: str | None = str(check_url(token_url or DEFAULT_TOKEN_URL, what="token URL"))
            self.zone_url: str | None = None
            self._base_url: str | None = api_root(str(check_url(base_url or DEFAULT_BASE_URL, what="base URL")))
        else:
            self.token_url = None
            self.zone_url = str(check_url(zone_url or DEFAULT_ZONE_URL, what="zone URL"))
            self._base_url = api_root(str(check_url(base_url, what="base URL"))) if base_url else None
        self._discovered = False
        self.zone: str | None = None
        self.ca_bundle = ca_bundle
        self.ssl_context = make_ssl_context(ca_bundle)
        self.limits = Limits(
            rate_limit=rate_limit,
            rate_window=rate_window,
            concurrency_per_endpoint=concurrency_per_endpoint,
            hourly=self.mode == "api_user",
            clock=self.clock,
            on_request=self._on_request,
        )
        self.hourly_threshold: int | None = hourly_threshold if self.mode == "api_user" else None
        self._server_hourly: int | None = None
        self._token_window = SlidingWindow(token_rate_limit, token_rate_window, self.clock)
        self.failure_memory = failure_memory
        self.max_token_wait = max_token_wait
        self._http = httpx.Client(
            verify=self.ssl_context,
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            trust_env=False,
        )

        self._lock = threading.RLock()
        self._discover_lock = threading.Lock()
        self._token: _Token | None = None
        self._had_token = False
        self._inflight: Future[_Token] | None = None
        self._failure: AutotaskError | None = None  # remembered failure (invalid client, rejected new token)
        self._failure_until = 0.0
        self._validated = False
        self._logged_out = False
        self.refresh_margin = refresh_margin
        self._last_error: str | None = None
        self._refresh_count = 0
        self._last_refresh_at: datetime | None = None
        self._subscribers: list[Callable[[ManagerStatus], None]] = []
        self._last_request_notify = float("-inf")
        self.auth: httpx.Auth = OAuthFlow(self) if self.mode == "oauth" else ApiUserFlow(self)

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
            clock = self.clock
            failing = self._failure is not None and clock.monotonic() < self._failure_until
            if self._logged_out:
                state = TokenState.LOGGED_OUT
            elif self._inflight is not None:
                state = TokenState.REFRESHING
            elif self.mode == "oauth":
                if tok is None:
                    if failing or self._last_error:
                        state = TokenState.ERROR
                    else:
                        state = TokenState.EXPIRED if self._had_token else TokenState.LOGGED_OUT
                elif tok.expired(clock):
                    state = TokenState.EXPIRED
                elif tok.due(clock):
                    state = TokenState.EXPIRING
                else:
                    state = TokenState.VALID
            elif self._last_error:
                state = TokenState.ERROR
            elif self._validated:
                state = TokenState.VALID
            else:
                state = TokenState.LOGGED_OUT
            base = self._base_url
            api_host = ""
            if base:
                u = httpx.URL(base)
                api_host = u.host + (f":{u.port}" if u.port else "")
            hourly = None
            if self.limits.hourly is not None:
                hourly = max(self.limits.hourly.count(), self._server_hourly or 0)
            return ManagerStatus(
                mode=self.mode,
                label=self.label,
                identity=self._identity,
                api_host=api_host,
                zone=self.zone,
                state=state,
                expires_at=(datetime.fromtimestamp(tok.sent_wall + tok.lifetime, UTC) if tok is not None else None),
                refresh_margin=tok.margin if tok is not None else self._refresh_margin,
                refresh_count=self._refresh_count,
                last_refresh_at=self._last_refresh_at,
                requests_last_minute=self.limits.rate.count(),
                requests_per_minute_limit=self.limits.rate.limit,
                hourly_requests=hourly,
                hourly_threshold=self.hourly_threshold,
                last_error=self._last_error,
            )

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
            self._get_token(force=True)
            return
        if self._discovered:
            with self._lock:
                self._base_url = None
                self._discovered = False
        self._validate_api_user()

    def _require_credentials(self) -> Credentials:
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

    def _record_error(self, message: str | None) -> None:
        with self._lock:
            self._last_error = _redact.redact(message) if message else None

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
            url, zone = self._discover()
            with self._lock:
                self._base_url, self.zone, self._discovered = url, zone, True
        self._notify()
        return url

    def credential_origins(self) -> set[tuple[str, int, str]]:
        """Origins that may receive credentials (token endpoint, API root)."""
        result = set()
        for u in (self.token_url, self._base_url):
            if u:
                result.add(origin(u))
        return result  # type: ignore[return-value]

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

    def _discover(self) -> tuple[str, str | None]:
        creds = self._require_credentials()
        assert isinstance(creds, ApiUserCredentials)
        assert self.zone_url is not None
        who = creds.identity
        last: BaseException | None = None
        for attempt in range(3):
            try:
                response = self._http.get(self.zone_url, params={"user": creds.username})
            except httpx.HTTPError as exc:
                last = exc
                if is_retryable_exception(exc) and attempt < 2:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                if is_tls_error(exc):
                    raise TransportError(
                        "zone discovery failed: TLS certificate verification failed",
                        request="GET zoneInformation",
                        hint="if the server uses a private CA, set AUTOTASK_CA_BUNDLE to its PEM file",
                    ) from None
                raise TransportError(
                    f"zone discovery failed: {type(exc).__name__}",
                    request="GET zoneInformation",
                    hint="check the network and AUTOTASK_ZONE_URL",
                ) from None
            if response.status_code in (502, 503, 504) and attempt < 2:
                time.sleep(0.2 * (attempt + 1))
                continue
            break
        else:  # pragma: no cover - loop always breaks or raises
            raise TransportError(f"zone discovery failed: {last!r}")
        words = _server_words(response)
        if response.status_code != 200:
            if response.status_code == 500 or any("zone information" in w.lower() for w in words):
                err: AutotaskError = AuthenticationError(
                    f"unknown API user {who}: zone discovery found no zone",
                    status=response.status_code,
                    request="GET zoneInformation",
                    server_messages=words,
                    hint="check AUTOTASK_USERNAME (the API user's full username)",
                )
            else:
                err = ServerError(
                    f"zone discovery answered HTTP {response.status_code}",
                    status=response.status_code,
                    request="GET zoneInformation",
                    server_messages=words,
                    hint="check AUTOTASK_ZONE_URL, or set AUTOTASK_BASE_URL to skip discovery",
                )
            self._record_error(str(err))
            self._notify()
            raise err
        try:
            data = response.json()
            url = str(data["url"])
        except Exception:
            raise ServerError(
                "zone discovery returned no URL",
                request="GET zoneInformation",
                hint="set AUTOTASK_BASE_URL to skip discovery",
            ) from None
        # Never downgrade: a zone URL must pass the same https/loopback rule as configured ones.
        checked = check_url(url, what="zone URL returned by zoneInformation")
        zone = data.get("zoneName") if isinstance(data, dict) else None
        log.debug("zone discovered: %s (%s)", checked.host, zone)
        return api_root(str(checked)), (str(zone) if zone else None)

    def _validate_api_user(self) -> None:
        base = self.api_base_url()
        url = base + "ThresholdInformation"
        try:
            with self.limits.request("GET ThresholdInformation"):
                response = self._http.get(url, auth=self.auth)
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
            _redact.detach(exc)  # its request holds the Secret and ApiIntegrationCode headers
            raise TransportError(f"validation request failed: {kind}", request="GET ThresholdInformation") from None
        if response.status_code == 401:
            raise AuthenticationError(
                "the API rejected the API-user credentials",
                status=401,
                request="GET ThresholdInformation",
                server_messages=_server_words(response),
                hint="check AUTOTASK_USERNAME, AUTOTASK_INTEGRATION_CODE and AUTOTASK_SECRET",
            )
        if response.status_code == 200:
            try:
                data = response.json()
                with self._lock:
                    if data.get("externalRequestThreshold"):
                        self.hourly_threshold = int(data["externalRequestThreshold"])
                    if data.get("currentTimeframeRequestCount") is not None:
                        self._server_hourly = int(data["currentTimeframeRequestCount"])
            except Exception:
                pass
        self._notify()

    # ------------------------------------------------------------------ OAuth tokens

    def _get_token(self, *, force: bool = False) -> _Token:
        """The current token, fetching one (single-flight) when missing, due, or ``force``d."""
        for _ in range(5):
            with self._lock:
                self._require_credentials()
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
            if not leader:
                try:
                    return fut.result()
                except _Interrupted:
                    force = False
                    continue
                except BaseException as exc:
                    raise _clone(exc) from None
            return self._lead_fetch(fut)
        raise AuthenticationError("could not obtain an access token", hint="try again")

    def _early_refresh_blocked(self, tok: _Token) -> bool:
        """True when ``tok`` is due but still valid and the client-side token limit has no slot now:
        the refresh is not yet needed, so it must neither wait nor fail a pull (a later call
        refreshes once a slot is free, or when the token really expires)."""
        return not tok.expired(self.clock) and self._token_window.wait_time() > 0

    def _lead_fetch(self, fut: Future[_Token]) -> _Token:
        self._notify()
        try:
            tok = self._fetch_token()
        except BaseException as exc:
            with self._lock:
                self._inflight = None
                if isinstance(exc, AutotaskError):
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

    def _sleep(self, seconds: float) -> None:
        sleep = getattr(self.clock, "sleep", None)
        (sleep or time.sleep)(seconds)

    def _fetch_token(self) -> _Token:
        """POST the form body to the token endpoint; honours its rate limit and Retry-After."""
        assert self.token_url is not None
        for attempt in range(1, 4):
            creds = self._require_credentials()
            assert isinstance(creds, OAuthCredentials)
            try:
                self._token_window.acquire(max_wait=self.max_token_wait)
            except TimeoutError as exc:
                raise RateLimitError(
                    "token endpoint limit reached on the client side "
                    f"({self._token_window.limit} per {self._token_window.window:g} s)",
                    hint=f"wait {float(exc.args[0]):.0f} s and try again",
                ) from None
            sent_mono, sent_wall = self.clock.monotonic(), self.clock.time()
            log.debug("POST %s (token request)", self.token_url)
            try:
                # The secret is revealed inline into the request body; no local variable holds it.
                response = self._http.send(
                    self._http.build_request(
                        "POST",
                        self.token_url,
                        content=urlencode(
                            {
                                "grant_type": "client_credentials",
                                "client_id": creds.client_id,
                                "client_secret": creds.client_secret.reveal(),
                            }
                        ).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                )
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
                if is_retryable_exception(exc) and not isinstance(exc, httpx.TimeoutException) and attempt < 3:
                    self._sleep(0.2 * attempt)
                    continue
                tls = is_tls_error(exc)
                _redact.detach(exc)  # its request holds the form body with the client secret
                if tls:
                    raise TransportError(
                        "token request failed: TLS certificate verification failed",
                        request="POST oauth/token",
                        hint="if the server uses a private CA, set AUTOTASK_CA_BUNDLE to its PEM file",
                    ) from None
                raise TransportError(
                    f"token request failed: {kind}",
                    request="POST oauth/token",
                    hint="check the network and AUTOTASK_TOKEN_URL",
                ) from None
            log.debug("POST %s -> %s", self.token_url, response.status_code)
            status = response.status_code
            if status == 200:
                try:
                    data: dict[str, Any] = response.json()
                    secret = Secret(str(data.pop("access_token")))
                    lifetime = float(data.get("expires_in") or 3600)
                except Exception:
                    raise AuthenticationError(
                        "token endpoint answered 200 without an access_token",
                        status=200,
                        request="POST oauth/token",
                        hint="check AUTOTASK_TOKEN_URL",
                    ) from None
                return _Token(secret, sent_mono, sent_wall, max(1.0, lifetime), margin_cap=self._refresh_margin)
            words = _server_words(response)
            if status in (400, 401):
                err: AutotaskError = AuthenticationError(
                    "token request rejected: invalid client credentials",
                    status=status,
                    request="POST oauth/token",
                    server_messages=words,
                    hint=f"{SOLUTION_400} — check AUTOTASK_CLIENT_ID and AUTOTASK_CLIENT_SECRET",
                )
                self._remember_failure(err)
                raise err
            if status == 429:
                wait = parse_retry_after(response.headers.get("Retry-After"), self.clock.time())
                wait = 1.0 if wait is None else wait
                if wait > self.max_token_wait or attempt >= 3:
                    rl = RateLimitError(
                        "token endpoint rate limit reached (HTTP 429)",
                        status=429,
                        request="POST oauth/token",
                        server_messages=words,
                        hint=f"wait {wait:.0f} s and try again",
                    )
                    rl.retry_after = wait
                    raise rl
                log.debug("token endpoint 429: waiting %.2f s", wait)
                self._sleep(wait)
                continue
            if status in (500, 502, 503, 504) and attempt < 3:
                self._sleep(0.2 * attempt)
                continue
            raise ServerError(
                f"token endpoint answered HTTP {status}",
                status=status,
                request="POST oauth/token",
                server_messages=words,
                hint="try again later",
            )
        raise ServerError("token endpoint kept failing", request="POST oauth/token", hint="try again later")

    def _remember_failure(self, err: AutotaskError) -> None:
        with self._lock:
            self._failure = err
            self._failure_until = self.clock.monotonic() + self.failure_memory
            self._last_error = _redact.redact(str(err))

    def _token_rejected(self, tok: _Token, response: httpx.Response, *, replay: bool) -> bool:
        """Handle a 401 on ``tok``; True when a refresh-and-replay is allowed."""
        brand_new = not tok.confirmed
        words = _server_words(response)
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
        if replay or brand_new:
            self._notify()
            return False
        self._notify()
        return True

    def _confirm(self, tok: _Token) -> None:
        if not tok.confirmed:
            tok.confirmed = True

    def _api_user_result(self, status: int, response: httpx.Response) -> None:
        changed = False
        with self._lock:
            if status == 401:
                msg = "API-user credentials rejected (HTTP 401)"
                words = _server_words(response)
                if words:
                    msg += ": " + "; ".join(words)
                changed = self._last_error != msg or self._validated
                self._last_error, self._validated = msg, False
            elif status < 400 and not self._validated:
                self._validated, self._last_error, changed = True, None, True
        if changed:
            self._notify()


class OAuthFlow(httpx.Auth):
    """Bearer token on every request; one refresh and one replay on a 401."""

    requires_request_body = True  # keep the body so a replay sends it intact

    def __init__(self, manager: CredentialManager) -> None:
        self._manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        m = self._manager
        m.check_api_origin(request.url)
        tok = m._get_token()
        request.headers["Authorization"] = "Bearer " + tok.secret.reveal()
        response = yield request
        if response.status_code != 401:
            if response.status_code < 400:
                m._confirm(tok)
            return
        if not m._token_rejected(tok, response, replay=False):
            return
        log.debug("401: refreshing the token once and replaying %s %s", request.method, request.url.path)
        tok = m._get_token()
        request.headers["Authorization"] = "Bearer " + tok.secret.reveal()
        response = yield request
        if response.status_code == 401:
            m._token_rejected(tok, response, replay=True)
        elif response.status_code < 400:
            m._confirm(tok)


class ApiUserFlow(httpx.Auth):
    """``ApiIntegrationCode`` / ``UserName`` / ``Secret`` (+ ``ImpersonationResourceId``) headers."""

    def __init__(self, manager: CredentialManager) -> None:
        self._manager = manager

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        m = self._manager
        m.check_api_origin(request.url)
        creds = m._require_credentials()
        assert isinstance(creds, ApiUserCredentials)
        request.headers["ApiIntegrationCode"] = creds.integration_code.reveal()
        request.headers["UserName"] = creds.username
        request.headers["Secret"] = creds.secret.reveal()
        if creds.impersonation_resource_id:
            request.headers["ImpersonationResourceId"] = creds.impersonation_resource_id
        response = yield request
        if response.status_code >= 400:
            # _api_user_result quotes the server's words; the body of a streamed error is not loaded yet.
            response.read()
        m._api_user_result(response.status_code, response)
