"""OAuth access tokens: the token value type and one fetch from the token endpoint (client credentials).

The secret is revealed inline into the request body and the token lives only inside a
:class:`~autotask_magic.client._credentials.Secret`; no local variable holds either in plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from .. import _redact
from .._exceptions import AuthenticationError, RateLimitError, ServerError, TransportError
from ._credentials import OAuthCredentials, Secret, has_control
from ._errors import SOLUTION_400, TLS_HINT, server_messages
from ._limits import Clock, SlidingWindow
from ._offthread import request_off_main
from ._retry import RetryPolicy, is_retryable_exception, is_tls_error, parse_retry_after

__all__ = ["AccessToken", "TokenEndpoint", "fetch_token", "is_invalid_client"]

log = _redact.get_logger("autotask_magic.auth")

_REQUEST = "POST oauth/token"


@dataclass(eq=False)
class AccessToken:
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
        """True once the token should be refreshed (``margin`` before it expires)."""
        # Both clocks: monotonic survives wall-clock jumps; the wall clock notices a sleeping laptop
        # (Linux's monotonic clock stops during suspend).
        left = self.lifetime - self.margin
        return clock.monotonic() >= self.sent_mono + left or clock.time() >= self.sent_wall + left

    def expired(self, clock: Clock) -> bool:
        """True once the token's lifetime has passed."""
        return clock.monotonic() >= self.sent_mono + self.lifetime or clock.time() >= self.sent_wall + self.lifetime

    @property
    def expires_wall(self) -> float:
        """Wall-clock expiry (epoch seconds)."""
        return self.sent_wall + self.lifetime


@dataclass(frozen=True)
class TokenEndpoint:
    """Where and how tokens are fetched: the manager's connection, its clock, limit and retry policy.

    ``retry.max_retry_after`` is the longest Retry-After waited out (the manager's ``max_token_wait``);
    ``retry.sleep`` is the manager's clock.
    """

    http: httpx.Client
    url: str
    clock: Clock
    window: SlidingWindow
    retry: RetryPolicy


def fetch_token(endpoint: TokenEndpoint, credentials: Callable[[], OAuthCredentials], margin_cap: float) -> AccessToken:
    """POST the form body to the token endpoint; honours its rate limit, retries and Retry-After.

    ``credentials`` is asked before each attempt, so a logout during a retry wait stops the fetch.
    Invalid client credentials raise :class:`AuthenticationError` with the status (400 or 401).
    """
    policy = endpoint.retry
    for attempt in range(1, policy.attempts + 1):
        creds = credentials()
        _take_slot(endpoint)
        sent_mono, sent_wall = endpoint.clock.monotonic(), endpoint.clock.time()
        log.debug("POST %s (token request)", endpoint.url)
        failure: TransportError | None = None
        try:
            response = _post(endpoint, creds)
        except httpx.HTTPError as exc:
            # A timeout may have reached the server; retrying it would only double the wait.
            if (
                is_retryable_exception(exc)
                and not isinstance(exc, httpx.TimeoutException)
                and attempt < policy.attempts
            ):
                policy.sleep(policy.backoff(attempt))
                continue
            failure = _transport_error(exc)
        if failure is not None:
            # Outside the except block, so the httpx error (its request holds the form body) is no __context__.
            raise failure
        log.debug("POST %s -> %s", endpoint.url, response.status_code)
        if response.status_code == 200:
            return _token_from(response, sent_mono, sent_wall, margin_cap)
        policy.sleep(_retry_wait(endpoint, response, attempt))
    raise ServerError("token endpoint kept failing", request=_REQUEST, hint="try again later")


def _take_slot(endpoint: TokenEndpoint) -> None:
    window = endpoint.window
    try:
        window.acquire(max_wait=endpoint.retry.max_retry_after)
    except TimeoutError as exc:
        raise RateLimitError(
            f"token endpoint limit reached on the client side ({window.limit} per {window.window:g} s)",
            hint=f"wait {float(exc.args[0]):.0f} s and try again",
        ) from None


class _FormBody:
    """The token request's form body, shown as its size: a Ctrl-C during the fetch raises in the frames
    that hold it, and a ``%xmode Verbose`` traceback prints every frame's locals."""

    def __init__(self, creds: OAuthCredentials) -> None:
        form = {"grant_type": "client_credentials", "client_id": creds.client_id}
        form["client_secret"] = creds.client_secret.reveal()  # only in this frame, gone once it returns
        self._data = urlencode(form).encode()

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[bytes]:
        yield self._data

    def __repr__(self) -> str:
        return f"<token form body, {len(self._data)} bytes>"


def _post(endpoint: TokenEndpoint, creds: OAuthCredentials) -> httpx.Response:
    body = _FormBody(creds)
    return request_off_main(
        endpoint.http,
        "POST",
        endpoint.url,
        content=body,  # an iterable, so no plain copy of the secret sits in this call's arguments
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))},
    )


def _transport_error(exc: httpx.HTTPError) -> TransportError:
    kind = type(exc).__name__
    tls = is_tls_error(exc)
    _redact.detach(exc)  # its request holds the form body with the client secret
    if tls:
        return TransportError(
            "token request failed: TLS certificate verification failed", request=_REQUEST, hint=TLS_HINT
        )
    return TransportError(
        f"token request failed: {kind}", request=_REQUEST, hint="check the network and AUTOTASK_TOKEN_URL"
    )


def _token_from(response: httpx.Response, sent_mono: float, sent_wall: float, margin_cap: float) -> AccessToken:
    secret: Secret | None = None
    try:
        data: dict[str, Any] = response.json()
        secret = Secret(str(data.pop("access_token")))
        lifetime = float(data.get("expires_in") or 3600)
    except Exception:
        secret = None
    # Raised outside the except block: the parse error (which may quote the body) is no __context__.
    if secret is None:
        raise AuthenticationError(
            "token endpoint answered 200 without an access_token",
            status=200,
            request=_REQUEST,
            hint="check AUTOTASK_TOKEN_URL",
        )
    if has_control(secret.reveal()):  # a token goes into a header: CR/LF would inject
        secret.forget()
        raise AuthenticationError(
            "token endpoint answered an access token with a control character (CR/LF?); it was not used",
            status=200,
            request=_REQUEST,
            hint="check AUTOTASK_TOKEN_URL points at the Autotask token endpoint",
        )
    return AccessToken(secret, sent_mono, sent_wall, max(1.0, lifetime), margin_cap=margin_cap)


def _retry_wait(endpoint: TokenEndpoint, response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before retrying after a non-200 answer; raises when it must not be retried."""
    status = response.status_code
    words = server_messages(response)
    policy = endpoint.retry
    last = attempt >= policy.attempts
    if status in (400, 401):
        raise AuthenticationError(
            "token request rejected: invalid client credentials",
            status=status,
            request=_REQUEST,
            server_messages=words,
            hint=f"{SOLUTION_400} — check AUTOTASK_CLIENT_ID and AUTOTASK_CLIENT_SECRET",
        )
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"), endpoint.clock.time())
        wait = 1.0 if wait is None else wait
        if wait > policy.max_retry_after or last:
            err = RateLimitError(
                "token endpoint rate limit reached (HTTP 429)",
                status=429,
                request=_REQUEST,
                server_messages=words,
                hint=f"wait {wait:.0f} s and try again",
            )
            err.retry_after = wait
            raise err
        log.debug("token endpoint 429: waiting %.2f s", wait)
        return wait
    if status in (500, 502, 503, 504) and not last:
        return policy.backoff(attempt)
    raise ServerError(
        f"token endpoint answered HTTP {status}",
        status=status,
        request=_REQUEST,
        server_messages=words,
        hint="try again later",
    )


def is_invalid_client(exc: BaseException) -> bool:
    """True for the token endpoint's "invalid client credentials" answer (remembered, not retried)."""
    return isinstance(exc, AuthenticationError) and exc.status in (400, 401) and exc.request == _REQUEST
