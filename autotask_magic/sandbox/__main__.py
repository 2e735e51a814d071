"""``python -m autotask_magic.sandbox``: serve a sandbox until Ctrl-C, printing how to connect."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

from .._durations import parse_duration, parse_latency_ms
from ._sandbox import Sandbox

T = TypeVar("T")


def _duration(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a duration parser (its ValueError text becomes the usage error)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _parser() -> argparse.ArgumentParser:
    """The command line of ``python -m autotask_magic.sandbox``."""
    p = argparse.ArgumentParser(
        prog="python -m autotask_magic.sandbox", description="Run a local Autotask REST API emulator on 127.0.0.1."
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    p.add_argument("--tickets", type=int, default=2000, help="number of tickets to generate (default 2000)")
    p.add_argument("--companies", type=int, default=None, help="number of companies (default: from --tickets)")
    p.add_argument(
        "--token-ttl", type=_duration(parse_duration), default=3600.0, help="OAuth token lifetime: 60s, 1.5s, 3600"
    )
    p.add_argument(
        "--latency",
        type=_duration(parse_latency_ms),
        default=0,
        help="response time per request: 200ms, 0.2s (a bare number is seconds; a floor that includes the "
        "sandbox's own processing)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed for the generated data")
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a generated certificate (needs the [tls] extra); prints the CA file to trust",
    )
    return p


def _print_connect(sb: Sandbox, a: argparse.Namespace, took: float, out: TextIO) -> None:
    """Print where the sandbox serves, its credentials as ``export`` lines and a curl to try."""
    print(
        f"Autotask sandbox serving at {sb.root_url} ({a.tickets} tickets, seed {a.seed}, started in {took:.2f} s)",
        file=out,
    )
    print(f"  API base URL : {sb.base_url}", file=out)
    print(f"  Token URL    : {sb.token_url}", file=out)
    print(f"  Zone URL     : {sb.zone_url}", file=out)
    if sb.ca_path:
        print(f"  CA file      : {sb.ca_path}", file=out)
        print(f"export REQUESTS_CA_BUNDLE={shlex.quote(sb.ca_path)}  # requests-based clients", file=out)
        print(f"export SSL_CERT_FILE={shlex.quote(sb.ca_path)}  # httpx and the ssl module", file=out)
    print("\nOAuth mode (client credentials):", file=out)
    print(f"  client_id={sb.client_id}  client_secret={sb.client_secret}", file=out)
    for k, v in sb.env("oauth").items():
        print(f"export {k}={shlex.quote(v)}", file=out)
    print("\nAPI-user mode (headers UserName / Secret / ApiIntegrationCode):", file=out)
    print(f"  username={sb.username}  integration_code={sb.integration_code}  secret={sb.secret}", file=out)
    for k, v in sb.env("api_user").items():
        print(f"export {k}={shlex.quote(v)}", file=out)
    print("\nTry:", file=out)
    print(
        f"  curl -s -H 'UserName: {sb.username}' -H 'Secret: {sb.secret}' "
        f"-H 'ApiIntegrationCode: {sb.integration_code}' "
        + (f"--cacert {shlex.quote(sb.ca_path)} " if sb.ca_path else "")
        + f"'{sb.base_url}Tickets/{sb.store['Tickets'].ids[0]}'"
        if sb.store["Tickets"].ids
        else "",
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the sandbox, print URLs and credentials, serve until interrupted."""
    a = _parser().parse_args(argv)
    t0 = time.perf_counter()
    sb = Sandbox(
        tickets=a.tickets,
        companies=a.companies,
        token_ttl=a.token_ttl,
        latency_ms=a.latency,
        seed=a.seed,
        port=a.port,
        tls=a.tls,
    ).start()
    took = time.perf_counter() - t0
    out = sys.stdout
    _print_connect(sb, a, took, out)
    print("Press Ctrl-C to stop.", file=out, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
