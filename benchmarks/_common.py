"""What every benchmark row shares: a result line, the run's configuration, the correctness check and
the client builders (kept apart from ``__main__`` so row modules import them without a second copy of it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._server import SandboxProcess

__all__ = ["CheckFailed", "Config", "Result", "_check", "_client", "_date_columns"]


@dataclass
class Result:
    """One line of the table."""

    row: str
    measure: str
    value: float | None
    target: str
    ok: bool | None
    detail: str = ""


@dataclass
class Config:
    """Sizes and repeats for one run."""

    quick: bool
    check: bool
    repeats: int
    full_tickets: int
    latency_pages: int
    latency_ms: int
    startup_repeats: int
    rows: set[int] = field(default_factory=lambda: set(range(1, 12)))


class CheckFailed(AssertionError):
    """A correctness check failed."""


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def _date_columns(client: Any, entity: str) -> list[str]:
    """Every date column a careful analyst would convert: standard fields and date-typed UDFs."""
    fields = client.fields(entity)
    udf_dates = [f"udf.{f.name}" for f in fields.udfs if f.kind in ("date", "datetime")]
    return list(fields.date_fields) + udf_dates


def _client(sp: SandboxProcess, warm: str | None = None) -> Any:
    """A new client. Each client has its own 600 requests/minute window, so repeated timed pulls use a
    fresh one (as a new notebook session would); ``warm`` pre-fetches that entity's metadata."""
    from autotask_magic import AutotaskClient

    client = AutotaskClient.from_env(sp.env("api_user"))
    if warm:
        client.fields(warm)
    return client
