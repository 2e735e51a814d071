"""API-user mode: find the tenant's API root (zone) from ``zoneInformation``, and read its thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from .. import _redact
from .._exceptions import AuthenticationError, AutotaskError, ServerError, TransportError
from ._credentials import ApiUserCredentials
from ._errors import TLS_HINT, bad_integration_code, server_messages
from ._offthread import request_off_main
from ._retry import RetryPolicy, is_retryable_exception, is_tls_error
from ._settings import api_root, check_url

__all__ = ["Thresholds", "Zone", "check_zone_answer", "discover_zone", "read_thresholds"]

log = _redact.get_logger("autotask_magic.auth")

_REQUEST = "GET zoneInformation"


@dataclass(frozen=True)
class Zone:
    """Where an API user's tenant lives: its API root (ending with ``/V1.0/``) and the zone's name."""

    api_root: str
    name: str | None


@dataclass(frozen=True)
class Thresholds:
    """What ``ThresholdInformation`` says about the hourly request budget (None when not reported)."""

    hourly_threshold: int | None
    current_count: int | None


def discover_zone(
    http: httpx.Client,
    zone_url: str,
    creds: ApiUserCredentials,
    retry: RetryPolicy,
    allowed_hosts: Sequence[str] = (),
) -> Zone:
    """GET ``zoneInformation?user=...``, retrying dropped connections and gateway errors per ``retry``.

    Errors name what to check; an answer with an HTTP status raises an error carrying that status. The
    answer is checked with :func:`check_zone_answer` (``allowed_hosts``) before anything is sent there.
    """
    for attempt in range(1, retry.attempts + 1):
        failure: TransportError | None = None
        try:
            response = request_off_main(http, "GET", zone_url, params={"user": creds.username})
        except httpx.HTTPError as exc:
            if is_retryable_exception(exc) and attempt < retry.attempts:
                retry.sleep(retry.backoff(attempt))
                continue
            failure = _transport_error(exc)
        if failure is not None:
            raise failure  # outside the except block: no __context__
        if response.status_code in (502, 503, 504) and attempt < retry.attempts:
            retry.sleep(retry.backoff(attempt))
            continue
        break
    if response.status_code != 200:
        raise _status_error(response, creds.identity)
    return _zone_from(response, zone_url, allowed_hosts)


def _transport_error(exc: httpx.HTTPError) -> TransportError:
    tls = is_tls_error(exc)
    _redact.detach(exc)
    if tls:
        return TransportError(
            "zone discovery failed: TLS certificate verification failed", request=_REQUEST, hint=TLS_HINT
        )
    return TransportError(
        f"zone discovery failed: {type(exc).__name__}", request=_REQUEST, hint="check the network and AUTOTASK_ZONE_URL"
    )


def _status_error(response: httpx.Response, who: str) -> AutotaskError:
    words = server_messages(response)
    status = response.status_code
    if status == 500 or any("zone information" in w.lower() for w in words):
        return AuthenticationError(
            f"unknown API user {who}: zone discovery found no zone",
            status=status,
            request=_REQUEST,
            server_messages=words,
            hint="check AUTOTASK_USERNAME (the API user's full username)",
        )
    return ServerError(
        f"zone discovery answered HTTP {status}",
        status=status,
        request=_REQUEST,
        server_messages=words,
        hint="check AUTOTASK_ZONE_URL, or set AUTOTASK_BASE_URL to skip discovery",
    )


def check_zone_answer(answer: httpx.URL, zone_url: str, allowed_hosts: Sequence[str] = ()) -> None:
    """Refuse a zone answer that would send the API user's Secret somewhere unexpected.

    The answer decides where ``Secret`` / ``ApiIntegrationCode`` go, so it must be an Autotask host
    (``*.autotask.net``), the zone URL's own host, or a host in ``allowed_hosts``
    (``AUTOTASK_ALLOWED_HOSTS``), and its scheme may not be weaker than the zone URL's.
    """
    zone = httpx.URL(zone_url)
    host = answer.host.lower().rstrip(".")
    if zone.scheme == "https" and answer.scheme != "https":
        raise ServerError(
            f"refused the zone answer {answer.scheme}://{host}: plain http:// after an https:// zone URL; "
            "nothing was sent",
            request=_REQUEST,
            hint="set AUTOTASK_BASE_URL to the tenant's https:// API root",
        )
    allowed = {h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()}
    autotask = host == "autotask.net" or host.endswith(".autotask.net")
    if autotask or host == zone.host.lower().rstrip(".") or host in allowed:
        return
    raise ServerError(
        f"refused the zone answer {host}: not an Autotask host (*.autotask.net) nor the zone URL's host; "
        "nothing was sent",
        request=_REQUEST,
        hint=f"if {host} is your private deployment, add it to AUTOTASK_ALLOWED_HOSTS (comma-separated), "
        "or set AUTOTASK_BASE_URL",
    )


def _zone_from(response: httpx.Response, zone_url: str, allowed_hosts: Sequence[str]) -> Zone:
    try:
        data = response.json()
        url = str(data["url"])
    except Exception:
        raise ServerError(
            "zone discovery returned no URL", request=_REQUEST, hint="set AUTOTASK_BASE_URL to skip discovery"
        ) from None
    # Never downgrade: a zone URL must pass the same https/loopback rule as configured ones.
    checked = check_url(url, what="zone URL returned by zoneInformation")
    check_zone_answer(checked, zone_url, allowed_hosts)
    zone = data.get("zoneName") if isinstance(data, dict) else None
    log.debug("zone discovered: %s (%s)", checked.host, zone)
    return Zone(api_root(str(checked)), str(zone) if zone else None)


def read_thresholds(http: httpx.Client, url: str, auth: httpx.Auth) -> Thresholds:
    """GET ``ThresholdInformation`` with the API-user headers: validates the credentials (401 raises)."""
    request = "GET ThresholdInformation"
    failure: TransportError | None = None
    try:
        response = request_off_main(http, "GET", url, auth=auth)
    except httpx.HTTPError as exc:
        kind = type(exc).__name__
        _redact.detach(exc)  # its request holds the Secret and ApiIntegrationCode headers
        failure = TransportError(f"validation request failed: {kind}", request=request)
    if failure is not None:
        raise failure  # outside the except block: no __context__
    bad_code = bad_integration_code(response, request)
    if bad_code is not None:
        raise bad_code
    if response.status_code == 401:
        raise AuthenticationError(
            "the API rejected the API-user credentials",
            status=401,
            request=request,
            server_messages=server_messages(response),
            hint="check AUTOTASK_USERNAME, AUTOTASK_INTEGRATION_CODE and AUTOTASK_SECRET",
        )
    threshold = current = None
    if response.status_code == 200:
        try:
            data = response.json()
            if data.get("externalRequestThreshold"):
                threshold = int(data["externalRequestThreshold"])
            if data.get("currentTimeframeRequestCount") is not None:
                current = int(data["currentTimeframeRequestCount"])
        except Exception:
            pass  # validated all the same; the numbers are only shown in the status panel
    return Thresholds(threshold, current)
