"""The IPython magics: ``%autotask_login``, ``%autotask_logout``, ``%autotask_status``,
``%autotask_last_error`` and ``%autotask`` / ``%%autotask``.

Modelled on IPython's own magics and jupysql's ``SqlMagic``: a ``Magics`` + ``Configurable`` class
whose options are traitlets (``%config AutotaskMagic.timezone = "Europe/Berlin"`` or
``c.AutotaskMagic.timezone`` in ``ipython_config.py``), and thin magic methods: parse the line, call
the core client, display. Everything that talks to a front end (``display``, prompts, the status
widget) and the client itself are injectable, so tests drive a plain ``InteractiveShell``.

Loading is cheap: no pandas, httpx or network at import or ``%load_ext`` time; the core is imported
on first use.
"""

from __future__ import annotations

import argparse
import getpass as _getpass
import json
import os
import re
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import (
    MagicArgumentParser,
    argument,
    magic_arguments,
    parse_argstring,
)
from traitlets import Bool, CaselessStrEnum, Float, Int, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from .._exceptions import (
    AutotaskError,
    ConfigurationError,
    IncompletePullError,
    NotFoundError,
    QuerySyntaxError,
)
from ..entities import MAX_PAGE_SIZE
from ..entities._names import COMMON_ENTITIES, suggest_entity
from . import _display
from ._login import (
    check_no_secret_arguments,
    not_logged_in_error,
    plan_login,
    request_line_credential,
    scrub_history,
)

__all__ = ["AutotaskMagic", "load_ipython_extension", "unload_ipython_extension"]

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
PARTIAL_NAME = "_autotask_partial"
_ENTITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

USAGE = textwrap.dedent(  # IPython's dedent keeps the first line's indent
    """\
    %autotask query ENTITY [options] [where CONDITION]     (or the condition in the cell body)
    %autotask GET|POST|PATCH|PUT|DELETE /PATH [--body NAME] [--dry-run] [--raw] [-o NAME]
    %autotask fields ENTITY                                (the entity's field metadata)

    query options: --fields a,b,c  --limit N  --count  -o NAME  --labels  --parallel  --tz ZONE
                   --where TEXT  --dry-run  --raw
    condition:     status != 5 and createDate >= '2026-01-01' and (priority in (1, 2)
                   or title contains 'printer') and udf."Root Cause" = :cause
    """
)


# -------------------------------------------------------------------------------------- parsers


def _query_parser() -> MagicArgumentParser:
    p = MagicArgumentParser(prog="%autotask query", add_help=False)
    p.add_argument("entity", help="entity name, e.g. Tickets")
    p.add_argument("--where", default=None, help="condition in the query language")
    p.add_argument("--fields", default=None, help="comma-separated field names (IncludeFields)")
    p.add_argument("--limit", type=_positive_int, default=None, help="stop after N records")
    p.add_argument("--count", action="store_true", help="return the number of matching records")
    p.add_argument("-o", "--output", default=None, help="store the result in this variable")
    p.add_argument("--labels", action="store_true", default=None, help="add <field>_label columns")
    p.add_argument("--no-labels", action="store_false", dest="labels", help="no label columns")
    p.add_argument("--parallel", action="store_true", default=None, help="id-range parallel pull")
    p.add_argument("--tz", default=None, help="time zone for date columns (default: UTC)")
    p.add_argument("--dry-run", action="store_true", help="show the request, send nothing")
    p.add_argument("--raw", action="store_true", help="return the records as a list of dicts")
    return p


def _request_parser() -> MagicArgumentParser:
    p = MagicArgumentParser(prog="%autotask METHOD", add_help=False)
    p.add_argument("method")
    p.add_argument("path", help="path under the API root, e.g. /Companies/0")
    p.add_argument("--body", default=None, help="name of a dict/list in the namespace to send as JSON")
    p.add_argument("--dry-run", action="store_true", help="show the request, send nothing")
    p.add_argument("--raw", action="store_true", help="return the parsed JSON")
    p.add_argument("-o", "--output", default=None, help="store the result in this variable")
    return p


def _fields_parser() -> MagicArgumentParser:
    p = MagicArgumentParser(prog="%autotask fields", add_help=False)
    p.add_argument("entity")
    p.add_argument("-o", "--output", default=None)
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _split_words(line: str) -> list[str]:
    from IPython.utils.process import arg_split

    try:
        return arg_split(line, posix=True, strict=True)
    except ValueError as exc:
        raise UsageError(f"cannot read the line: {exc} (unbalanced quotes?)") from None


_TOKEN = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\S+")


def _split_where(rest: str) -> tuple[str, str | None]:
    """Split ``Tickets --limit 5 where status != 5`` at the first bare ``where`` word."""
    for i, m in enumerate(_TOKEN.finditer(rest)):
        if i > 0 and m.group(0).lower() == "where":
            return rest[: m.start()], rest[m.end() :].strip()
    return rest, None


_QUERY_OPTIONS = (
    "where",
    "fields",
    "limit",
    "count",
    "output",
    "labels",
    "no-labels",
    "parallel",
    "tz",
    "dry-run",
    "raw",
)
_REQUEST_OPTIONS = ("body", "dry-run", "raw", "output")


def _refuse_option_lines(cell: str, kind: str, options: tuple[str, ...], first_line: str) -> None:
    """Refuse a cell-body line that starts with an option (``--fields a,b``, ``-o name``).

    The query language reads ``--`` as a comment, so such a line would be silently ignored; options
    belong on the ``%%autotask`` line.
    """
    pattern = re.compile(r"^\s*(--(?:" + "|".join(map(re.escape, options)) + r")|-o)(?=[\s=]|$)")
    for number, body_line in enumerate(cell.splitlines(), start=2):
        m = pattern.match(body_line)
        if m:
            option = m.group(1)
            example = f"{first_line} {option} …"
            raise UsageError(
                f"{option} on line {number} of the cell is not read as an option: options go on the first "
                f"line ({example})" + (" — in a query body '--' starts a comment" if kind == "query" else "")
            )


def _magic_param_hint(exc: QuerySyntaxError) -> QuerySyntaxError:
    """An unknown ``:name`` in the magic: say to define the variable in the notebook (the parser's
    hint also mentions ``params=``, which is the Python API's wording)."""
    m = re.match(r"unknown parameter :([A-Za-z_][A-Za-z0-9_]*)", exc.message)
    if m:
        exc.hint = f"define {m.group(1)} = ... in a cell first, then run this cell again"
    return exc


class _Namespace(Mapping[str, Any]):
    """Read-only view of the user namespace for ``:name`` parameters (no copy of a large namespace)."""

    def __init__(self, ns: Mapping[str, Any]) -> None:
        self._ns = ns

    def __getitem__(self, key: str) -> Any:
        return self._ns[key]

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._ns if not k.startswith("_"))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        return key in self._ns


# -------------------------------------------------------------------------------------- the magics


@magics_class
class AutotaskMagic(Magics, Configurable):
    """The ``%autotask*`` magics. Options: ``%config AutotaskMagic`` lists them."""

    base_url = Unicode(
        None, allow_none=True, help="API root (…/V1.0/); overrides AUTOTASK_BASE_URL. Skips zone discovery."
    ).tag(config=True)
    token_url = Unicode(None, allow_none=True, help="OAuth token URL; overrides AUTOTASK_TOKEN_URL.").tag(config=True)
    zone_url = Unicode(None, allow_none=True, help="Zone discovery URL; overrides AUTOTASK_ZONE_URL.").tag(config=True)
    ca_bundle = Unicode(None, allow_none=True, help="CA bundle file for TLS; overrides AUTOTASK_CA_BUNDLE.").tag(
        config=True
    )
    timeout = Float(30.0, help="Seconds to wait for each HTTP request.").tag(config=True)
    page_size = Int(MAX_PAGE_SIZE, help=f"Records per page asked of the server (1-{MAX_PAGE_SIZE}).").tag(config=True)
    refresh_margin = Float(
        None, allow_none=True, help="Seconds before expiry at which the OAuth token is refreshed."
    ).tag(config=True)
    default_mode = CaselessStrEnum(
        ["api_user", "oauth"], "api_user", help="Login mode when nothing in the environment says which."
    ).tag(config=True)
    progress = CaselessStrEnum(
        ["auto", "widget", "text", "none"],
        "auto",
        help="Progress for multi-page pulls: a widget in Jupyter, a text line elsewhere, or none.",
    ).tag(config=True)
    timezone = Unicode("UTC", help="Time zone of date/time columns (e.g. 'Europe/Berlin').").tag(config=True)
    labels = Bool(False, help="Add <field>_label columns for picklist fields by default.").tag(config=True)
    parallel = Bool(False, help="Use id-range parallel pulls by default.").tag(config=True)
    summary_rows = Int(5, help="Rows shown under the summary after -o NAME (0: summary line only).").tag(config=True)
    autologin = Bool(True, help="Log in from the environment on the first %autotask call.").tag(config=True)
    sandbox_tickets = Int(2000, help="Tickets in the sandbox started by %autotask_login --sandbox.").tag(config=True)
    sandbox_token_ttl = Float(
        3600.0, help="Seconds a sandbox token lives (%autotask_login --sandbox; a few seconds to watch refreshes)."
    ).tag(config=True)
    sandbox_latency_ms = Int(
        0, help="Milliseconds the sandbox waits before each answer (%autotask_login --sandbox; a slow tenant)."
    ).tag(config=True)

    @validate("page_size")
    def _check_page_size(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= MAX_PAGE_SIZE:
            raise TraitError(f"page_size must be between 1 and {MAX_PAGE_SIZE} (the API's limit)")
        return value

    @observe("page_size")
    def _page_size_changed(self, change: Any) -> None:
        # %config after login applies to the session already open, not only to the next login.
        client = getattr(self, "client", None)
        if client is not None and hasattr(client, "page_size"):
            client.page_size = change["new"]

    @validate("sandbox_token_ttl")
    def _check_token_ttl(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not value > 0:
            raise TraitError("sandbox_token_ttl must be a positive number of seconds")
        return value

    @validate("sandbox_latency_ms")
    def _check_latency(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value < 0:
            raise TraitError("sandbox_latency_ms must be 0 or more milliseconds")
        return value

    @validate("timezone")
    def _check_timezone(self, proposal: Any) -> str:
        value = str(proposal["value"])
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise TraitError(f"unknown time zone {value!r} (use an IANA name like 'Europe/Berlin')") from None
        return value

    def __init__(
        self,
        shell: Any = None,
        *,
        display: Callable[..., Any] | None = None,
        client_factory: Callable[..., Any] | None = None,
        widget_factory: Callable[[Any], Any] | None = None,
        sandbox_factory: Callable[..., Any] | None = None,
        input: Callable[[str], str] | None = None,
        getpass: Callable[[str], str] | None = None,
        can_prompt: Callable[[], bool] | None = None,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(shell=shell, **kwargs)
        self._display = display
        self._client_factory = client_factory
        self._widget_factory = widget_factory
        self._sandbox_factory = sandbox_factory
        self._input = input
        self._getpass = getpass
        self._can_prompt = can_prompt
        self._environ = environ
        self.client: Any = None
        self.sandbox: Any = None
        self._lock = threading.RLock()
        self._fields_cache: dict[tuple[str, str], Any] = {}
        self._known_entities: set[str] = set()
        self.last_error: BaseException | None = None
        self._last_error_tb: str | None = None
        self._closed = False
        self._scratch_ns: dict[str, Any] = {}

    # ---------------------------------------------------------------------------- plumbing
    def display(self, obj: Any) -> None:
        """Show ``obj`` with the injected display function, or IPython's."""
        if self._display is not None:
            self._display(obj)
            return
        from IPython.display import display

        display(obj)

    def _display_progress(self, obj: Any) -> Any:
        """Show a progress bar; returns IPython's DisplayHandle (None with an injected display)."""
        if self._display is not None:
            self._display(obj)
            return None
        from IPython.display import display

        return display(obj, display_id=True)

    def _say(self, text: str) -> None:
        # Plain text goes through display too, so tests and front ends see one channel.
        self.display(_Text(text))

    @property
    def _user_ns(self) -> dict[str, Any]:
        # Magics always run inside a shell; a detached instance (unit tests) writes to a scratch dict.
        return self.shell.user_ns if self.shell is not None else self._scratch_ns

    def _verbose(self) -> bool:
        tb = getattr(self.shell, "InteractiveTB", None)
        return str(getattr(tb, "mode", "")).lower() == "verbose"

    def _in_kernel(self) -> bool:
        """True in a Jupyter kernel (widgets and ANSI colours reach a front end), False in a terminal."""
        return getattr(self.shell, "kernel", None) is not None

    def _color(self) -> bool:
        return self._in_kernel() and str(getattr(self.shell, "colors", "")).lower() != "nocolor"

    def _secrets(self) -> list[str]:
        """Values to scrub from anything rendered: the live credentials and tokens, if any."""
        out: list[str] = []
        client = self.client
        creds = getattr(getattr(client, "manager", None), "credentials", None)
        for attr in ("client_secret", "secret", "integration_code"):
            value = getattr(creds, attr, None)
            reveal = getattr(value, "reveal", None)
            if callable(reveal):
                try:
                    out.append(reveal())
                except Exception:
                    pass
        return out

    def _fail(self, exc: BaseException) -> BaseException:
        """Remember ``exc`` for ``%autotask_last_error`` and make it render as one line."""
        self.last_error = exc
        self._last_error_tb = _display.format_traceback(exc)
        return _display.make_one_line(exc, verbose=self._verbose, secrets=self._secrets(), color=self._color())

    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except UsageError as exc:
            self.last_error = exc
            self._last_error_tb = None
            raise
        except AutotaskError as exc:
            self._fail(exc)
            raise

    # ---------------------------------------------------------------------------- login
    @magic_arguments()
    @argument("--sandbox", action="store_true", help="start the built-in sandbox and log into it")
    @argument("--mode", choices=["oauth", "api_user"], default=None, help="OAuth client credentials or API user")
    @argument("--client-id", default=None, help="OAuth client id (identifier, not the secret)")
    @argument("--username", default=None, help="API username (API-user mode)")
    @argument("--impersonate", default=None, help="impersonation resource id (API-user mode)")
    @argument("--base-url", default=None, help="API root …/V1.0/ (skips zone discovery)")
    @argument("--token-url", default=None, help="OAuth token URL")
    @argument("--zone-url", default=None, help="zone discovery URL (API-user mode)")
    @argument("--ca-bundle", default=None, help="CA bundle file for TLS")
    @argument("--tickets", type=int, default=None, help="with --sandbox: number of tickets to generate")
    @argument(
        "--token-ttl",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --sandbox: seconds each token lives (default: AutotaskMagic.sandbox_token_ttl)",
    )
    @argument(
        "--latency",
        type=int,
        default=None,
        metavar="MS",
        help="with --sandbox: milliseconds of delay per answer (default: AutotaskMagic.sandbox_latency_ms)",
    )
    @argument("--no-check", action="store_true", help="do not validate the credentials now")
    @line_magic
    def autotask_login(self, line: str = "") -> None:
        """Log in to Autotask and show the connection status.

        Credentials come from the environment (AUTOTASK_CLIENT_ID/AUTOTASK_CLIENT_SECRET for OAuth;
        AUTOTASK_USERNAME/AUTOTASK_INTEGRATION_CODE/AUTOTASK_SECRET for an API user). What is missing
        is asked for (secrets with a hidden prompt) when someone can answer; otherwise login fails at
        once naming the variables. Secrets are never options: the line is saved in history.
        Login checks the credentials immediately (first token, or zone discovery and one request).
        """
        try:
            return self._run(self._login, line)
        except BaseException:
            # IPython stored the line before the magic ran: a refused secret must not stay in history.
            from ._login import line_carries_secret, scrub_history

            if line_carries_secret(line, self._LOGIN_IDENTIFIERS, self._LOGIN_URLS, self._LOGIN_FLAGS):
                scrub_history(self.shell, line)
            raise

    _LOGIN_IDENTIFIERS = (
        "--client-id",
        "--username",
        "--impersonate",
        "--mode",
        "--tickets",
        "--token-ttl",
        "--latency",
    )
    _LOGIN_URLS = ("--base-url", "--token-url", "--zone-url", "--ca-bundle")
    _LOGIN_FLAGS = ("--sandbox", "--no-check", "-h", "--help")

    def _login(self, line: str) -> None:
        words = _split_words(line)
        if any(word in ("-h", "--help") for word in words):
            # argparse would exit; show the help without its reST "::" header instead.
            self._say(self.autotask_login.parser.format_help().removeprefix("::").strip())
            return
        check_no_secret_arguments(words, self._LOGIN_IDENTIFIERS, self._LOGIN_URLS)
        known = set(self._LOGIN_IDENTIFIERS) | set(self._LOGIN_URLS) | set(self._LOGIN_FLAGS)
        takes_value = set(self._LOGIN_IDENTIFIERS) | set(self._LOGIN_URLS)
        for prev, word in zip([""] + words, words):
            name = word.split("=", 1)[0]
            if prev in takes_value:
                continue  # a value such as "--latency -1": argparse judges it below
            if word.startswith("-") and name not in known:
                # Never echo the value: an unknown option may carry a secret.
                raise UsageError(f"%autotask_login has no option {name} (see %autotask_login?)")
        args = parse_argstring(self.autotask_login, line)
        sandbox_only = [
            o
            for o, v in (("--tickets", args.tickets), ("--token-ttl", args.token_ttl), ("--latency", args.latency))
            if v is not None
        ]
        if sandbox_only and not args.sandbox:
            verb = "needs" if len(sandbox_only) == 1 else "need"
            raise UsageError(f"{', '.join(sandbox_only)} {verb} --sandbox (they set up the built-in sandbox)")
        if args.token_ttl is not None and not args.token_ttl > 0:
            raise UsageError("--token-ttl needs a positive number of seconds")
        if args.latency is not None and args.latency < 0:
            raise UsageError("--latency needs 0 or more milliseconds")
        if args.tickets is not None and args.tickets < 0:
            raise UsageError("--tickets needs 0 or more tickets")
        client = self._sandbox_client(args) if args.sandbox else self._env_client(args)
        try:
            if not args.no_check:
                self._check_login(client)
        except BaseException:
            self._close_client(client)
            raise
        with self._lock:
            old, self.client = self.client, client
        if old is not None and old is not client:
            self._close_client(old)
        self._show_status(unchecked=args.no_check)

    def _environment(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _prompt_allowed(self) -> bool:
        if self._can_prompt is not None:
            return bool(self._can_prompt())
        from ._login import can_prompt

        return can_prompt(self.shell)

    def _ask(self, text: str) -> str:
        if self._input is not None:
            return self._input(text)
        kernel = getattr(self.shell, "kernel", None)
        if kernel is not None:
            return kernel.raw_input(text)
        return input(text)

    def _ask_secret(self, text: str) -> str:
        if self._getpass is not None:
            return self._getpass(text)
        kernel = getattr(self.shell, "kernel", None)
        if kernel is not None:
            return kernel.getpass(text)
        return _getpass.getpass(text)

    def _env_client(self, args: argparse.Namespace) -> Any:
        overrides = {
            "AUTOTASK_CLIENT_ID": args.client_id,
            "AUTOTASK_USERNAME": args.username,
            "AUTOTASK_IMPERSONATION_RESOURCE_ID": args.impersonate,
            "AUTOTASK_BASE_URL": args.base_url or self.base_url,
            "AUTOTASK_TOKEN_URL": args.token_url or self.token_url,
            "AUTOTASK_ZONE_URL": args.zone_url or self.zone_url,
            "AUTOTASK_CA_BUNDLE": args.ca_bundle or self.ca_bundle,
        }
        mode = args.mode
        if mode is None and args.client_id:
            mode = "oauth"
        elif mode is None and args.username:
            mode = "api_user"
        plan = plan_login(
            mode=mode,
            overrides=overrides,
            environ=self._environment(),
            prompt_allowed=self._prompt_allowed(),
            ask=self._ask,
            ask_secret=self._ask_secret,
            default_mode=self.default_mode,
        )
        return self._make_client(plan.env, mode=plan.mode)

    def _sandbox_client(self, args: argparse.Namespace) -> Any:
        mode = args.mode or "oauth"
        with self._lock:
            sandbox = self.sandbox
            if sandbox is None or (
                args.tickets is not None and getattr(sandbox, "_tickets_asked", None) != args.tickets
            ):
                if sandbox is not None:
                    self._stop_sandbox()
                tickets = args.tickets if args.tickets is not None else self.sandbox_tickets
                if self._sandbox_factory is not None:
                    sandbox = self._sandbox_factory(tickets=tickets)
                else:
                    from ..sandbox import Sandbox

                    sandbox = Sandbox(tickets=tickets)
                    sandbox.start()
                try:
                    sandbox._tickets_asked = tickets
                except AttributeError:
                    pass
                self.sandbox = sandbox
            # Lifetime and latency are live settings of a running sandbox: a re-login changes them
            # without regenerating the data (tokens already issued keep their expiry).
            sandbox.token_ttl = float(args.token_ttl if args.token_ttl is not None else self.sandbox_token_ttl)
            sandbox.faults.latency_ms = args.latency if args.latency is not None else self.sandbox_latency_ms
        env = dict(sandbox.env(mode=mode))
        return self._make_client(env, mode=mode, label="sandbox")

    def _make_client(self, env: Mapping[str, str], *, mode: str, label: str | None = None) -> Any:
        from ..client._settings import API_USER_VARS, OAUTH_VARS, Settings

        # The environment may hold the other mode's variables too; the chosen mode decides.
        drop = API_USER_VARS if mode == "oauth" else OAUTH_VARS
        env = {k: v for k, v in env.items() if k not in drop}
        try:
            settings = Settings.from_env(env)
        except ConfigurationError:
            raise
        except ValueError as exc:  # e.g. a non-numeric impersonation resource id
            raise ConfigurationError(f"invalid login setting: {exc}") from None
        kwargs: dict[str, Any] = {
            "base_url": settings.base_url,
            "token_url": settings.token_url,
            "zone_url": settings.zone_url,
            "ca_bundle": settings.ca_bundle,
            "timeout": self.timeout,
            "label": label,
        }
        factory = self._client_factory
        if factory is None:
            from ..client._client import AutotaskClient

            factory = AutotaskClient
        client = factory(settings.credentials, **kwargs)
        self._apply_client_config(client)
        return client

    def _apply_client_config(self, client: Any) -> None:
        manager = getattr(client, "manager", None)
        if self.refresh_margin is not None and manager is not None and hasattr(manager, "refresh_margin"):
            try:
                manager.refresh_margin = float(self.refresh_margin)
            except (AttributeError, TypeError):
                pass
        if hasattr(client, "page_size"):
            try:
                client.page_size = self.page_size
            except (AttributeError, TypeError):
                pass

    def _check_login(self, client: Any) -> None:
        """Prove the credentials now: OAuth gets its first token; an API user resolves the zone and
        makes one cheap request."""
        # OAuth: the first token; API user: zone discovery (unless a base URL is set) and one cheap
        # request (ThresholdInformation). A typo fails here, with the server's explanation.
        client.manager.refresh()

    def _show_status(self, *, unchecked: bool = False) -> None:
        # unchecked: after --no-check the manager has no token yet and its state reads "logged out".
        note = "credentials not checked (--no-check); the first request gets a token"
        client = self.client
        if client is None:
            self._say(str(not_logged_in_error()))
            return
        manager = client.manager
        factory = self._widget_factory
        if factory is None and self._in_kernel():
            try:
                from . import _widget

                factory = _widget.status_panel
            except ImportError:  # no ipywidgets: the text line below
                factory = None
        if factory is not None:
            try:
                self.display(factory(manager))
                if unchecked:
                    self._say(f"Autotask: {note}")
                return
            except Exception:  # a widget problem must not hide the status
                pass
        line = _display.status_line(manager.status())
        if unchecked and line.startswith("Autotask: logged out"):
            line = f"Autotask: {note}" + line[len("Autotask: logged out") :]
        self._say(line)

    def _close_client(self, client: Any) -> None:
        try:
            client.close()
        except Exception:
            pass

    def _stop_sandbox(self) -> None:
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            try:
                sandbox.stop()
            except Exception:
                pass

    @line_magic
    def autotask_logout(self, line: str = "") -> None:
        """Forget the token and the credentials, close the connection (and stop a sandbox it started)."""
        with self._lock:
            client, self.client = self.client, None
        if client is None:
            self._say("Autotask: not logged in")
        else:
            try:
                client.manager.logout()
            finally:
                self._close_client(client)
            self._say("Autotask: logged out; token and credentials forgotten")
        if line.strip() != "--keep-sandbox":
            self._stop_sandbox()

    @line_magic
    def autotask_status(self, line: str = "") -> None:
        """Show who is logged in, where, the token's state and the request budget."""
        self._show_status()

    @line_magic
    def autotask_last_error(self, line: str = "") -> None:
        """Show the full detail of the last error (status, request, server messages, traceback)."""
        exc = self.last_error
        if exc is None:
            self._say("No Autotask error in this session.")
            return
        self._say(_display.error_detail(exc, self._last_error_tb, self._secrets()))

    # ---------------------------------------------------------------------------- %autotask
    @line_cell_magic
    def autotask(self, line: str = "", cell: str | None = None) -> Any:
        """Query Autotask into a DataFrame, or send a raw request.

        %autotask query ENTITY [--fields a,b] [--limit N] [--count] [-o NAME] [--labels] [where …]
        %%autotask query ENTITY [options]      (the condition in the cell body)
        %autotask GET|POST|PATCH|PUT|DELETE /PATH [--body NAME] [--dry-run] [--raw] [-o NAME]
        %autotask fields ENTITY
        """
        head = line.strip().partition(" ")[0].upper()
        if head in METHODS:
            what = request_line_credential(line)
            if what is not None:
                # IPython stored the line before the magic ran: take it out of history, send nothing.
                scrub_history(self.shell, line)
                err = ConfigurationError(
                    f"%autotask refuses a request line carrying a credential ({what}): nothing was sent, and "
                    "the line was removed from IPython history",
                    hint="log in with %autotask_login (credentials from the environment or a hidden prompt); "
                    "if a real credential was typed, clear it from the notebook cell and rotate it",
                )
                self._fail(err)
                raise err
        return self._run(self._autotask, line, cell)

    def _autotask(self, line: str, cell: str | None) -> Any:
        stripped = line.strip()
        if not stripped or stripped in ("help", "-h", "--help"):
            self._say(USAGE)
            return None
        head, _, rest = stripped.partition(" ")
        if head.upper() in METHODS:
            return self._request(head.upper(), rest, cell)
        if head.lower() == "query":
            return self._query(rest, cell)
        if head.lower() == "fields":
            return self._fields_command(rest)
        hint = ""
        # Only a word that is (close to) an entity name earns "did you mean query …?".
        entity = suggest_entity(head, self._known_entities) if _ENTITY_RE.match(head) else None
        if entity is None and _ENTITY_RE.match(head) and head[:1].isupper():
            entity = head
        if entity is not None:
            hint = f" — did you mean %autotask query {entity}?"
        raise UsageError(f"unknown %autotask command {head!r}{hint} (query, fields, GET, POST, PATCH, PUT, DELETE)")

    # ---- client and metadata
    def _ensure_client(self) -> Any:
        with self._lock:
            if self.client is not None:
                return self.client
            if not self.autologin:
                raise not_logged_in_error()
            env = self._environment()
            from ..client._settings import API_USER_VARS, OAUTH_VARS

            if not any(env.get(v) for v in (*OAUTH_VARS, *API_USER_VARS)):
                raise not_logged_in_error()
            mode = "oauth" if env.get("AUTOTASK_CLIENT_ID") else "api_user"
            overrides = {
                "AUTOTASK_BASE_URL": self.base_url,
                "AUTOTASK_TOKEN_URL": self.token_url,
                "AUTOTASK_ZONE_URL": self.zone_url,
                "AUTOTASK_CA_BUNDLE": self.ca_bundle,
            }
            plan = plan_login(
                mode=mode,
                overrides=overrides,
                environ=env,
                prompt_allowed=False,
                ask=self._ask,
                ask_secret=self._ask_secret,
                default_mode=self.default_mode,
            )
            self.client = self._make_client(plan.env, mode=plan.mode)
            return self.client

    def _cache_key(self, client: Any, entity: str) -> tuple[str, str]:
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
            hit = self._fields_cache.get(self._cache_key(client, entity))
            if hit is not None:
                return hit
        lowered = entity.lower()
        for (_, name), fields in self._fields_cache.items():
            if name == lowered:
                return fields
        return None

    def _entity_fields(self, client: Any, entity: str) -> Any:
        key = self._cache_key(client, entity)
        fields = self._fields_cache.get(key)
        if fields is None:
            try:
                fields = client.fields(entity)
            except NotFoundError as exc:
                guess = suggest_entity(entity, self._known_entities)
                hint = f"did you mean {guess}?" if guess else "check the entity name (plural, e.g. Tickets)"
                raise NotFoundError(
                    f"unknown entity {entity!r}", status=exc.status, request=exc.request, hint=hint
                ) from exc
            self._fields_cache[key] = fields
            self._known_entities.add(getattr(fields, "entity", None) or entity)
        return fields

    # ---- query
    def _query(self, rest: str, cell: str | None) -> Any:
        left, where_text = _split_where(rest)
        args = _query_parser().parse_args(_split_words(left))
        entity = args.entity
        if not _ENTITY_RE.match(entity):
            raise UsageError(f"{entity!r} is not an entity name (e.g. Tickets, Companies)")
        if args.output is not None and not _IDENT_RE.match(args.output):
            raise UsageError(f"-o needs a Python variable name, got {args.output!r}")
        sources = [t for t in (args.where, where_text, cell if cell and cell.strip() else None) if t]
        if len(sources) > 1:
            raise UsageError("give the condition once: in the cell body, after 'where', or with --where")
        text = sources[0] if sources else ""
        if cell:
            _refuse_option_lines(cell, "query", _QUERY_OPTIONS, f"%%autotask query {entity}")
        if args.count and args.raw:
            raise UsageError("--count and --raw do not go together")

        from ..query._query import parse_where, validate_filter

        params = _Namespace(self.shell.user_ns if self.shell is not None else {})
        # Syntax, operators and the UDF rule are checked here, before login or any request.
        try:
            parsed = parse_where(text, params)
        except QuerySyntaxError as exc:
            raise _magic_param_hint(exc) from None
        validate_filter(parsed, None, entity=entity)
        field_list = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
        labels = self.labels if args.labels is None else args.labels
        parallel = self.parallel if args.parallel is None else args.parallel
        tz = args.tz or self.timezone
        if args.tz:
            self._check_tz(args.tz)

        if args.dry_run:
            fields = self.cached_fields(entity)
            filter_ = validate_filter(parsed, fields, entity=entity) if fields is not None else list(parsed)
            return self._dry_run_query(entity, filter_, field_list, args, fields)

        client = self._ensure_client()
        fields = self._entity_fields(client, entity)
        filter_ = validate_filter(parsed, fields, entity=entity)
        if field_list:
            field_list = self._check_field_names(entity, field_list, fields)

        if args.count:
            n = client.count(entity, filter_ or None)
            if args.output:
                self._user_ns[args.output] = n
                self._say(f"{args.output}: {n:,} {entity}")
                return None
            return n

        progress = _display.Progress(
            entity,
            mode=self.progress,
            display=self._display_progress,
            limit=args.limit,
            widgets=self._in_kernel(),
        )
        started = time.monotonic()
        try:
            if args.raw:
                result: Any = []
                try:
                    result.extend(
                        client.records(
                            entity,
                            filter_ or None,
                            fields=field_list,
                            limit=args.limit,
                            on_page=progress.update,
                            parallel=parallel,
                        )
                    )
                except KeyboardInterrupt as exc:
                    if len(getattr(exc, "records", None) or ()) < len(result):
                        exc.records, exc.pages = result, progress.pages  # type: ignore[attr-defined]
                    raise
            else:
                result = client.query(
                    entity,
                    filter=filter_ or None,
                    fields=field_list,
                    limit=args.limit,
                    labels=labels,
                    tz=tz,
                    parallel=parallel,
                    on_page=progress.update,
                )
        except KeyboardInterrupt as exc:
            progress.finish()
            raise self._interrupted(entity, exc, fields, labels, tz, progress) from None
        except IncompletePullError as exc:
            progress.finish()
            raise self._interrupted(entity, exc, fields, labels, tz, progress) from exc
        elapsed = time.monotonic() - started
        if not args.raw:
            self._annotate(result, entity, text, filter_, field_list, args.limit, progress, elapsed)
        progress.finish()
        if progress.shown and not args.output:
            self._say(self._summary_text(None, result, entity, progress, elapsed))
        if args.output:
            self._user_ns[args.output] = result
            self._show_stored(args.output, result)
            return None
        return result

    def _check_tz(self, tz: str) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"unknown time zone {tz!r} (use an IANA name like 'Europe/Berlin')") from None

    def _check_field_names(self, entity: str, names: list[str], fields: Any) -> list[str]:
        out = []
        for name in names:
            info = fields.get(name) if fields is not None else None
            if info is None and fields is not None:
                suggestion = fields.suggest(name)
                hint = f"did you mean {suggestion}?" if suggestion else f"%autotask fields {entity} lists them"
                raise QuerySyntaxError(f"unknown field {name!r} in --fields for {entity}", hint=hint)
            out.append(getattr(info, "name", name) if info is not None else name)
        return out

    def _annotate(
        self,
        df: Any,
        entity: str,
        text: str,
        filter_: list[dict[str, Any]],
        field_list: list[str] | None,
        limit: int | None,
        progress: _display.Progress,
        elapsed: float,
    ) -> None:
        attrs = getattr(df, "attrs", None)
        if attrs is None:
            return
        info = dict(attrs.get("autotask") or {})
        info.setdefault("entity", entity)
        info.setdefault("where", text.strip() or None)
        info.setdefault("filter", filter_)
        info.setdefault("fields", field_list)
        info.setdefault("limit", limit)
        info.setdefault("pages", progress.pages)
        info.setdefault("records", len(df))
        if "elapsed_s" not in info:
            info["elapsed_s"] = round(elapsed, 3)
        attrs["autotask"] = info

    def _summary_text(
        self, name: str | None, result: Any, entity: str, progress: _display.Progress, elapsed: float
    ) -> str:
        if hasattr(result, "shape"):
            return _display.frame_summary(name or entity, result)
        n = len(result) if hasattr(result, "__len__") else 0
        return f"{name or entity}: {n:,} records, {progress.pages} pages, {elapsed:.2f} s"

    def _show_stored(self, name: str, result: Any) -> None:
        if hasattr(result, "shape"):
            self._say(_display.frame_summary(name, result))
            if self.summary_rows > 0 and len(result):
                self.display(result.head(self.summary_rows))
        else:
            n = len(result) if hasattr(result, "__len__") else 1
            self._say(f"{name}: {n:,} records")

    def _interrupted(
        self,
        entity: str,
        exc: BaseException,
        fields: Any,
        labels: bool,
        tz: str,
        progress: _display.Progress,
    ) -> IncompletePullError:
        records = getattr(exc, "records", None)
        pages = getattr(exc, "pages", None) or progress.pages
        cause = getattr(exc, "cause", None) if isinstance(exc, IncompletePullError) else exc
        by_user = isinstance(exc, KeyboardInterrupt) or isinstance(cause, KeyboardInterrupt)
        what = "interrupted (Ctrl-C)" if by_user else "pull stopped early"
        # client.query() builds the DataFrame as it pulls: its .frame holds every record fetched, and
        # .records only those not yet converted.
        frame = getattr(exc, "frame", None)
        if isinstance(records, list):
            partial: Any = records
            try:
                from ..client._frames import to_frame

                if frame is not None:
                    partial = frame
                else:
                    partial = to_frame(records, fields=fields, labels=labels, tz=tz)
                    partial.attrs["autotask"] = {
                        "entity": entity,
                        "pages": pages,
                        "records": len(records),
                        "partial": True,
                    }
            except Exception:  # keep the raw records rather than lose them
                partial = records
            if self.shell is not None:
                self._user_ns[PARTIAL_NAME] = partial
            message = (
                f"{entity}: {what} after {len(partial):,} records in {pages} pages; "
                f"the records fetched so far are in {PARTIAL_NAME}"
            )
        else:
            message = f"{entity}: {what} after {pages} pages; no records were kept"
        cause_text = None if by_user else str(cause or exc)
        err = IncompletePullError(message, hint=(f"cause: {cause_text}" if cause_text else None))
        err.records = records if isinstance(records, list) else []
        err.frame = frame  # type: ignore[attr-defined]
        err.pages = int(pages or 0)
        err.cause = cause
        self.last_error = err
        self._last_error_tb = _display.format_traceback(exc)
        return _display.make_one_line(err, verbose=self._verbose, secrets=self._secrets(), color=self._color())  # type: ignore[return-value]

    def _dry_run_query(
        self,
        entity: str,
        filter_: list[dict[str, Any]],
        field_list: list[str] | None,
        args: argparse.Namespace,
        fields: Any,
    ) -> None:
        from ..client._client import query_body

        # The same body the client builds, so the dry run shows exactly what would be sent.
        body = query_body(filter_, field_list, args.limit, self.page_size)
        if args.count:
            path = f"{entity}/query/count"
            body = {"filter": body["filter"]}
        else:
            path = f"{entity}/query"
        note = "" if fields is not None else "\n(field names not checked: metadata not loaded yet)"
        self._say(self._render_request("POST", path, body) + note)

    # ---- raw requests
    def _request(self, method: str, rest: str, cell: str | None) -> Any:
        if cell:
            _refuse_option_lines(cell, "request", _REQUEST_OPTIONS, f"%%autotask {method} /PATH")
        args = _request_parser().parse_args([method, *_split_words(rest)])
        if args.output is not None and not _IDENT_RE.match(args.output):
            raise UsageError(f"-o needs a Python variable name, got {args.output!r}")
        path, params = self._clean_path(args.path)
        body: Any = None
        if args.body is not None and cell and cell.strip():
            raise UsageError("give the body once: in the cell or with --body NAME")
        if args.body is not None:
            ns = self.shell.user_ns if self.shell is not None else {}
            if args.body not in ns:
                raise UsageError(f"--body {args.body}: no such variable")
            body = ns[args.body]
            if not isinstance(body, (dict, list)):
                raise UsageError(f"--body {args.body}: expected a dict or list, got {type(body).__name__}")
            try:
                json.dumps(body)
            except (TypeError, ValueError) as exc:
                raise UsageError(f"--body {args.body} cannot be sent as JSON: {exc}") from None
        elif cell and cell.strip():
            try:
                body = json.loads(cell)
            except json.JSONDecodeError as exc:
                # At the end of the cell, point after the last character, not at the line its newline opens.
                end = cell.find("\n", len(cell.rstrip()))
                pos = min(exc.pos, len(cell) if end == -1 else end)
                line = cell.count("\n", 0, pos) + 1
                col = pos - (cell.rfind("\n", 0, pos) + 1) + 1
                err = QuerySyntaxError(
                    f"the cell is not valid JSON: {exc.msg} at line {line}, column {col}",
                    hint="the body of a raw request is JSON",
                )
                err.text, err.position = cell, pos
                raise err from None
        if method in ("GET", "DELETE") and body is not None:
            raise UsageError(f"{method} takes no body")
        segments = [s for s in path.split("/") if s]
        if method in ("PATCH", "PUT") and len(segments) == 2 and segments[1].isdigit():
            raise UsageError(
                f"Autotask has no {method} {segments[0]}/{{id}}: send {method} /{segments[0]} with the id in the body"
            )
        if method in ("POST", "PATCH", "PUT") and body is None:
            raise UsageError(f"{method} needs a JSON body: in the cell, or --body NAME")

        if args.dry_run:
            self._say(self._render_request(method, path, body, params))
            return None

        client = self._ensure_client()
        result = client.request(method, path, json=body, params=params or None)
        if segments and _ENTITY_RE.match(segments[0]):
            self._known_entities.add(segments[0])
        if not args.raw and isinstance(result, dict) and ("item" in result or "items" in result):
            result = self._frame_from_response(client, segments, result)
        elif method != "GET" and not args.raw and isinstance(result, dict):
            self._say(f"{method} {path}: " + ", ".join(f"{k}={v}" for k, v in result.items()))
        if args.output:
            self._user_ns[args.output] = result
            self._show_stored(args.output, result)
            return None
        return result

    def _frame_from_response(self, client: Any, segments: list[str], result: dict[str, Any]) -> Any:
        from ..client._frames import to_frame

        records = [result["item"]] if "item" in result else list(result.get("items") or [])
        entity = segments[0] if segments else ""
        # A child path (Companies/1/Contacts) holds the child's records.
        if len(segments) >= 3 and _ENTITY_RE.match(segments[2]):
            entity = segments[2]
        fields = None
        if entity and _ENTITY_RE.match(entity) and records:
            try:
                fields = self._entity_fields(client, entity)
            except AutotaskError:
                fields = None
        df = to_frame(records, fields=fields, tz=self.timezone)
        df.attrs["autotask"] = {
            "entity": entity,
            "request": f"GET /{'/'.join(segments)}",
            "pages": 1,
            "records": len(records),
        }
        next_url = (result.get("pageDetails") or {}).get("nextPageUrl")
        if next_url:
            self._say(f"{len(records)} records from the first page only; use %autotask query {entity} for all pages")
        return df

    def _clean_path(self, raw: str) -> tuple[str, dict[str, str]]:
        """Path relative to the API root, and its query parameters. Absolute URLs must point at the
        API root of the current session (credentials never go to another host)."""
        path = raw.strip()
        if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.IGNORECASE):
            root = self._api_root()
            if not root or not path.lower().startswith(root.lower()):
                raise UsageError(
                    "absolute URLs must be under the API root of this session; give a path like /Tickets/1"
                )
            path = path[len(root) :]
        path = path.lstrip("/")
        for prefix in ("atservicesrest/v1.0/", "v1.0/"):
            if path.lower().startswith(prefix):
                path = path[len(prefix) :]
        parts = urlsplit(path)
        path, query = parts.path, parts.query
        if any(seg in ("..", ".") for seg in path.split("/")):
            raise UsageError("the path may not contain '.' or '..'")
        if not path:
            raise UsageError("give a path under the API root, e.g. /Companies/0")
        return path, dict(parse_qsl(query, keep_blank_values=True))

    def _api_root(self) -> str | None:
        """The API root if it is already known, without triggering zone discovery."""
        client = self.client
        if client is None:
            return None
        manager = getattr(client, "manager", None)
        # Reading client.base_url would run zone discovery (a request); a dry run sends nothing.
        value = getattr(manager, "_base_url", None)
        return value if isinstance(value, str) and value else None

    def _render_request(self, method: str, path: str, body: Any, params: Mapping[str, str] | None = None) -> str:
        root = self._api_root() or "<API root>/"
        url = root.rstrip("/") + "/" + path.lstrip("/")
        if params:
            from urllib.parse import urlencode

            url += "?" + urlencode(params)
        headers: dict[str, str] = {}
        mode = None
        client = self.client
        if client is not None:
            try:
                mode = client.manager.status().mode
            except Exception:
                mode = None
        if mode == "api_user":
            headers["ApiIntegrationCode"] = "<redacted>"
            try:
                headers["UserName"] = client.manager.status().identity
            except Exception:
                headers["UserName"] = "<redacted>"
            headers["Secret"] = "<redacted>"
        else:
            headers["Authorization"] = "Bearer <redacted>"
        if body is not None:
            headers["Content-Type"] = "application/json"
        from .._redact import redact

        return redact(_display.render_dry_run(method, url, headers, body, secrets=self._secrets()))

    # ---- metadata
    def _fields_command(self, rest: str) -> Any:
        args = _fields_parser().parse_args(_split_words(rest))
        if not _ENTITY_RE.match(args.entity):
            raise UsageError(f"{args.entity!r} is not an entity name")
        client = self._ensure_client()
        fields = self._entity_fields(client, args.entity)
        import pandas as pd

        rows = []
        # Standard fields, then user-defined ones under the column name a query gives them.
        named = [(name, fields.get(name, udf=False)) for name in fields.names]
        named += [(f"udf.{name}", fields.get(name, udf=True)) for name in getattr(fields, "udf_names", [])]
        for name, info in named:
            rows.append(
                {
                    "name": name,
                    "data_type": getattr(info, "data_type", None),
                    "picklist": bool(getattr(info, "is_picklist", False)),
                    "reference": (getattr(info, "reference_entity", None) or "")
                    if getattr(info, "is_reference", False)
                    else "",
                    "udf": bool(getattr(info, "is_udf", False)),
                }
            )
        df = pd.DataFrame(rows, columns=["name", "data_type", "picklist", "reference", "udf"])
        if args.output:
            self._user_ns[args.output] = df
            self._say(_display.frame_summary(args.output, df))
            return None
        return df

    # ---------------------------------------------------------------------------- completion
    def complete(self, context: Any) -> dict[str, Any]:
        """IPython matcher (API v2): entity names after ``query`` and in paths; field names in query
        bodies, after ``--fields`` and after ``where``, once the entity's metadata is known."""
        from IPython.core.completer import SimpleCompletion

        empty: dict[str, Any] = {"completions": [], "suppress": False}
        try:
            candidates = self._completions(context)
        except Exception:
            return empty
        if not candidates:
            return empty
        token = context.token
        return {
            "completions": [SimpleCompletion(c, type="autotask") for c in candidates],
            "suppress": True,
            "matched_fragment": token,
        }

    def _entity_names(self) -> list[str]:
        return sorted(set(COMMON_ENTITIES) | self._known_entities)

    def _field_names(self, entity: str) -> list[str]:
        fields = self.cached_fields(entity)
        if fields is None:
            return []
        names = list(fields.names)
        names += [f'udf."{n}"' for n in getattr(fields, "udf_names", ())]
        return names

    def _completions(self, context: Any) -> list[str]:
        token = context.token or ""
        lines = context.full_text.split("\n")
        first = lines[0].lstrip() if lines else ""
        in_cell = first.startswith("%%autotask ") and context.cursor_line > 0
        if in_cell:
            m = re.match(r"%%autotask\s+query\s+([A-Za-z][A-Za-z0-9]*)", first, re.IGNORECASE)
            if not m:
                return []
            return [n for n in self._field_names(m.group(1)) if n.lower().startswith(token.lower())]
        before = context.text_until_cursor.lstrip()
        m = re.match(r"%{1,2}autotask\s+(.*)$", before)
        if not m:
            return []
        args = m.group(1)
        if re.fullmatch(r"\S*", args):
            commands = ["query", "fields", *METHODS]
            return [c for c in commands if c.lower().startswith(token.lower())]
        if re.fullmatch(r"(?i)(query|fields)\s+\S*", args):
            return [e for e in self._entity_names() if e.lower().startswith(token.lower())]
        if re.fullmatch(r"(?i)(GET|POST|PATCH|PUT|DELETE)\s+/?[A-Za-z]*", args):
            # The token may include the leading "/" (it depends on the completer's delimiters).
            prefix, _, stem = token.rpartition("/")
            prefix = prefix + "/" if _ else ""
            return [prefix + e for e in self._entity_names() if e.lower().startswith(stem.lower())]
        q = re.match(r"(?i)query\s+([A-Za-z][A-Za-z0-9]*)\s+(.*)$", args)
        if q:
            entity, tail = q.group(1), q.group(2)
            if re.search(r"(?:^|\s)--fields[ =]\S*$", tail) or re.search(r"(?i)(?:^|\s)where\s", tail):
                return [n for n in self._field_names(entity) if n.lower().startswith(token.lower())]
        return []

    # ---------------------------------------------------------------------------- shutdown
    def close(self) -> None:
        """Close the client, stop the sandbox, the progress and status widgets (``%unload_ext``)."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            client, self.client = self.client, None
        if client is not None:
            self._close_client(client)
        self._stop_sandbox()
        widget = sys.modules.get(f"{__package__}._widget")
        close_all = getattr(widget, "close_all", None)
        if callable(close_all):
            try:
                close_all()
            except Exception:
                pass


class _Text:
    """Plain text for ``display``: shows as text in every front end, never as a repr with quotes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return str(other) == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)


# -------------------------------------------------------------------------------------- extension

_MAGICS: dict[int, AutotaskMagic] = {}


def get_magic(ip: Any) -> AutotaskMagic | None:
    """The ``AutotaskMagic`` registered in shell ``ip`` (tests use it to inject fakes)."""
    return _MAGICS.get(id(ip))


def load_ipython_extension(ip: Any, **inject: Any) -> AutotaskMagic:
    """Register the magics and the completer in shell ``ip``. No network, no heavy imports."""
    old = _MAGICS.get(id(ip))
    if old is not None:
        unload_ipython_extension(ip)
    magic = AutotaskMagic(shell=ip, **inject)
    ip.register_magics(magic)
    _MAGICS[id(ip)] = magic
    completer = getattr(ip, "Completer", None)
    if completer is not None and hasattr(completer, "custom_matchers"):
        matcher = magic.complete
        _mark_matcher(matcher)
        completer.custom_matchers.append(matcher)
    return magic


def _mark_matcher(fn: Any) -> None:
    # Bound methods cannot take attributes; the IPython matcher API reads them off the function.
    func = getattr(fn, "__func__", fn)
    func.matcher_api_version = 2
    func.matcher_priority = 50
    func.matcher_identifier = "autotask_magic"


def unload_ipython_extension(ip: Any) -> None:
    """Close clients, stop the sandbox and every thread the extension started, remove the magics."""
    magic = _MAGICS.pop(id(ip), None)
    if magic is None:
        return
    magic.close()
    completer = getattr(ip, "Completer", None)
    matchers = getattr(completer, "custom_matchers", None)
    if matchers is not None:
        matchers[:] = [m for m in matchers if getattr(m, "__self__", None) is not magic]
    manager = getattr(ip, "magics_manager", None)
    if manager is not None:
        for kind, names in (
            ("line", ("autotask_login", "autotask_logout", "autotask_status", "autotask_last_error", "autotask")),
            ("cell", ("autotask",)),
        ):
            table = manager.magics.get(kind, {})
            for name in names:
                fn = table.get(name)
                if getattr(fn, "__self__", None) is magic:
                    del table[name]
        registry = getattr(manager, "registry", None)
        if registry is not None and registry.get("AutotaskMagic") is magic:
            del registry["AutotaskMagic"]
    configurables = getattr(ip, "configurables", None)
    if configurables is not None:
        configurables[:] = [c for c in configurables if c is not magic]
