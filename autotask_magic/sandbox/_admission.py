"""What every API request passes before it is routed, and the ThresholdInformation endpoint.

In order: injected drops and redirects, authentication, injected 429 bursts, the per-endpoint
concurrency limit (a slot held until the response is written), the rate windows (per token in OAuth
mode, the database's hourly threshold in API-user mode), the latency floor and injected 5xx errors.
The ``"db"`` window counts every API call; ThresholdInformation reports it.
"""

from __future__ import annotations

from ._auth import authenticate
from ._request import Reply, Request, Target, errors
from ._state import retry_after_header

__all__ = ["admit", "threshold_information"]

# The hourly threshold's window is this many rate windows (60 one-minute windows by default).
_HOUR = 60


def admit(req: Request, endpoint: str) -> None:
    """Let the API request to ``endpoint`` through or raise its Reply; holds ``req.slot`` once admitted.

    The caller releases the slot (``req.release_slot()``), whatever happens after this returns or raises.
    """
    sb = req.sandbox
    f = sb.faults
    req.maybe_drop()
    if f.redirect_to:
        sb.stats.count_fault("redirect")
        raise Reply(302, None, {"Location": str(f.redirect_to)})
    caller = authenticate(req)
    retry = f.take_burst()
    if retry is not None:
        sb.stats.count_fault("burst_429")
        raise errors(429, "Too many requests (injected burst).", headers={"Retry-After": retry})
    slot = caller.identity + " " + endpoint
    if not sb.stats.enter(endpoint, slot, int(f.concurrency_per_endpoint)):
        raise errors(
            429,
            f"Concurrent request limit of {f.concurrency_per_endpoint} for this endpoint exceeded.",
            headers={"Retry-After": "1"},
        )
    req.slot = (endpoint, slot)
    _rate_limit(req, caller.mode, caller.rate_key)
    req.set_latency()
    if f.error_rate and req.shared.random() < f.error_rate:
        status = req.shared.choice([500, 502, 503])
        sb.stats.count_fault(f"error_{status}")
        if status == 500:
            raise errors(500, "An unexpected error occurred (injected).")
        raise Reply(status, None, {"Retry-After": "1"} if status == 503 else None)


def _rate_limit(req: Request, mode: str, rate_key: str) -> None:
    f = req.sandbox.faults
    windows = req.shared.windows
    window = float(f.rate_window_seconds)
    if mode == "oauth":
        wait = windows.hit(rate_key, int(f.rate_limit_per_minute), window)
        if wait is not None:
            raise errors(
                429,
                f"API limit of {f.rate_limit_per_minute} requests a minute per token exceeded.",
                headers={"Retry-After": retry_after_header(wait)},
            )
        windows.hit("db", 1 << 62, window * _HOUR)
        return
    wait = windows.hit("db", int(f.hourly_threshold), window * _HOUR)
    if wait is not None:
        raise errors(
            429,
            f"The hourly request threshold of {f.hourly_threshold} for this database has been reached.",
            headers={"Retry-After": retry_after_header(wait)},
        )


def threshold_information(req: Request, target: Target) -> Reply:
    """``GET /ThresholdInformation``: the hourly threshold and how much of it this hour has used."""
    f = req.sandbox.faults
    return Reply(
        200,
        {
            "externalRequestThreshold": int(f.hourly_threshold),
            "requestThresholdTimeframe": 60,
            "currentTimeframeRequestCount": req.shared.windows.count("db", float(f.rate_window_seconds) * _HOUR),
        },
    )
