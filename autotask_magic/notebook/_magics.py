"""The IPython magics: ``%autotask_login``, ``%autotask_logout``, ``%autotask_status``,
``%autotask_last_error`` and ``%autotask`` / ``%%autotask``.

Modelled on IPython's own magics and jupysql's ``SqlMagic`` + ``SQLCommand``: a ``Magics`` +
``Configurable`` class whose options are traitlets (``%config AutotaskMagic.timezone = "Europe/Berlin"``
or ``c.AutotaskMagic.timezone`` in ``ipython_config.py``), and thin magic methods: parse the line into a
command (``_commands``), run it (``_runner`` / ``_session``), show the result (``_output``). Everything
that talks to a front end (``display``, prompts, the status widget) and the client itself are
injectable (``_session.Seams``), so tests drive a plain ``InteractiveShell``.

Loading is cheap: no pandas, httpx or network at import or ``%load_ext`` time; the core is imported
on first use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, CaselessStrEnum, Float, Int, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from .._exceptions import AutotaskError, ConfigurationError
from ..client._limits import DEFAULT_MAX_RESPONSE_BYTES
from ..client._tz import check_timezone
from ..entities import MAX_PAGE_SIZE
from . import _commands, _display, _line, _write_commands
from ._complete import matcher_answer
from ._login import line_option_credential, request_line_credential, scrub_history
from ._output import Text as _Text
from ._runner import PARTIAL_NAME, Runner
from ._session import ClientLike, Seams, Session
from ._status_view import show_status

__all__ = ["PARTIAL_NAME", "AutotaskMagic", "get_magic", "load_ipython_extension", "unload_ipython_extension"]

# Older names, kept for code (and tests) that import them from here.
_split_where = _commands.split_where
USAGE = _commands.USAGE
METHODS = _commands.METHODS


class _Seam:
    """``magic._environ`` (and the other injection points) read and write the session's ``Seams``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name.lstrip("_")

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        return self if obj is None else getattr(obj.seams, self.field)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj.seams, self.field, value)


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
    timeout = Float(30.0, help="Seconds to wait for each HTTP request (the whole request, not each read).").tag(
        config=True
    )
    max_response_bytes = Int(
        DEFAULT_MAX_RESPONSE_BYTES,
        help="Largest answer body accepted, in decoded bytes (a 500-record page is ~1-3 MB).",
    ).tag(config=True)
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
    confirm_above = Int(
        50, help="Writes (%autotask update/create/delete) above this many rows ask once before sending (--yes skips)."
    ).tag(config=True)
    expand = Unicode("", help="Reference fields named by default, e.g. 'companyID,assignedResourceID'.").tag(
        config=True
    )
    expand_ttl = Float(300.0, help="Seconds names fetched for --expand are reused.").tag(config=True)
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

    @validate("max_response_bytes")
    def _check_max_response_bytes(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value <= 0:
            raise TraitError("max_response_bytes must be a positive number of bytes")
        return value

    @observe("page_size", "timeout", "max_response_bytes")
    def _live_setting_changed(self, change: Any) -> None:
        # %config after login applies to the session already open, not only to the next login.
        client = self.client
        if client is not None and hasattr(client, change["name"]):
            setattr(client, change["name"], change["new"])

    @validate("timeout", "sandbox_token_ttl")
    def _check_seconds(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not value > 0:
            raise TraitError(f"{proposal['trait'].name} must be a positive number of seconds")
        return value

    @validate("sandbox_latency_ms")
    def _check_latency(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value < 0:
            raise TraitError("sandbox_latency_ms must be 0 or more milliseconds")
        return value

    @validate("timezone")
    def _check_timezone(self, proposal: Any) -> str:
        try:
            return check_timezone(str(proposal["value"]))
        except ConfigurationError as exc:
            raise TraitError(str(exc)) from None

    _display = _Seam()
    _client_factory = _Seam()
    _widget_factory = _Seam()
    _sandbox_factory = _Seam()
    _input = _Seam()
    _getpass = _Seam()
    _can_prompt = _Seam()
    _environ = _Seam()

    def __init__(
        self,
        shell: Any = None,
        *,
        display: Callable[..., Any] | None = None,
        client_factory: Callable[..., ClientLike] | None = None,
        widget_factory: Callable[[Any], Any] | None = None,
        sandbox_factory: Callable[..., Any] | None = None,
        input: Callable[[str], str] | None = None,
        getpass: Callable[[str], str] | None = None,
        can_prompt: Callable[[], bool] | None = None,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.seams = Seams(
            display, client_factory, widget_factory, sandbox_factory, input, getpass, can_prompt, environ
        )
        self.session = Session(self, self.seams, shell)
        super().__init__(shell=shell, **kwargs)
        self.session.shell = shell
        # Late-bound (lambdas), so a patched magic.display or magic._in_kernel reaches the runner too.
        self.runner = Runner(
            self.session,
            self,
            say=lambda text: self._say(text),  # noqa: PLW0108
            display=lambda obj: self.display(obj),  # noqa: PLW0108
            display_progress=lambda obj: self._display_progress(obj),  # noqa: PLW0108
            user_ns=lambda: self._user_ns,
            widgets=lambda: self._in_kernel(),  # noqa: PLW0108
        )
        self.last_error: BaseException | None = None
        self._last_error_tb: str | None = None
        self._closed = False
        self._scratch_ns: dict[str, Any] = {}

    # The session holds these; the magic shows them for %autotask users and tests.
    @property
    def client(self) -> ClientLike | None:
        session = self.__dict__.get("session")  # None while traitlets runs observers in __init__
        return session.client if session is not None else None

    @client.setter
    def client(self, value: ClientLike | None) -> None:
        self.session.client = value

    @property
    def sandbox(self) -> Any:
        return self.session.sandbox

    @property
    def _fields_cache(self) -> dict[tuple[str, str], Any]:
        return self.session.fields_cache

    def cached_fields(self, entity: str) -> Any:
        """Field metadata already fetched for ``entity`` in this kernel (no request), or None."""
        return self.session.cached_fields(entity)

    # ---------------------------------------------------------------------------- plumbing
    def display(self, obj: Any) -> None:
        """Show ``obj`` with the injected display function, or IPython's."""
        if self.seams.display is not None:
            self.seams.display(obj)
            return
        from IPython.display import display

        display(obj)

    def _display_progress(self, obj: Any) -> Any:
        """Show a progress bar; returns IPython's DisplayHandle (None with an injected display)."""
        if self.seams.display is not None:
            self.seams.display(obj)
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

    def _fail(self, exc: BaseException) -> BaseException:
        """Remember ``exc`` for ``%autotask_last_error`` and make it render as one line."""
        _display.notebook_advice(exc)
        self.last_error = exc
        self._last_error_tb = _display.format_traceback(exc)
        return _display.make_one_line(exc, verbose=self._verbose, secrets=self.session.secrets(), color=self._color())

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
    @argument(
        "--mode",
        choices=["oauth", "api-user", "api_user"],
        default=None,
        help="OAuth client credentials or API user (default: AUTOTASK_MODE, else the complete credential set)",
    )
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
        type=_commands.duration,
        default=None,
        metavar="DURATION",
        help="with --sandbox: how long each token lives, e.g. 30s or 2s (default: AutotaskMagic.sandbox_token_ttl)",
    )
    @argument(
        "--latency",
        type=_commands.duration,
        default=None,
        metavar="DURATION",
        help="with --sandbox: delay before each answer, e.g. 500ms or 0.5s, at most 10s "
        "(default: AutotaskMagic.sandbox_latency_ms). DURATION is a number with ms or s; a bare number is seconds",
    )
    @argument("--no-check", action="store_true", help="do not validate the credentials now")
    @no_var_expand  # values never enter a line through IPython's {} or $ expansion
    @line_magic
    def autotask_login(self, line: str = "") -> None:
        """Log in to Autotask and show the connection status.

        Credentials come from the environment (AUTOTASK_CLIENT_ID/AUTOTASK_CLIENT_SECRET for OAuth;
        AUTOTASK_USERNAME/AUTOTASK_INTEGRATION_CODE/AUTOTASK_SECRET for an API user). With both sets
        complete, choose with --mode or AUTOTASK_MODE. What is missing is asked for (secrets with a
        hidden prompt) when someone can answer; otherwise login fails at once naming the variables.
        Secrets are never options: the line is saved in history. Login checks the credentials
        immediately (first token, or zone discovery and one request).
        """
        try:
            return self._run(self._login, line)
        except BaseException:
            # IPython stored the line before the magic ran: a refused secret must not stay in history.
            from ._login import line_carries_secret

            c = _commands
            if line_carries_secret(line, c.LOGIN_IDENTIFIERS, c.LOGIN_URLS, c.LOGIN_FLAGS):
                scrub_history(self.shell, line)
            raise

    def _login(self, line: str) -> None:
        words = _commands.split_words(line)
        if any(word in ("-h", "--help") for word in words):
            # argparse would exit; show the help without its reST "::" header instead.
            self._say(self.autotask_login.parser.format_help().removeprefix("::").strip())
            return
        _commands.check_login_words(words)
        cmd = _commands.parse_login(self.autotask_login.parser.parse_args(words))
        self.session.login(cmd)
        self._show_status(unchecked=cmd.no_check)

    def _show_status(self, *, unchecked: bool = False) -> None:
        show_status(self, unchecked=unchecked)

    @no_var_expand
    @line_magic
    def autotask_logout(self, line: str = "") -> None:
        """Forget the token and the credentials, close the connection (and stop a sandbox it started)."""
        if self.session.logout(keep_sandbox=_commands.split_words(line) == ["--keep-sandbox"]):
            self._say("Autotask: logged out; token and credentials forgotten")
        else:
            self._say("Autotask: not logged in")

    @no_var_expand
    @line_magic
    def autotask_status(self, line: str = "") -> None:
        """Show who is logged in, where, the token's state and the request budget."""
        self._show_status()

    @no_var_expand
    @line_magic
    def autotask_last_error(self, line: str = "") -> None:
        """Show the full detail of the last error (status, request, server messages, traceback)."""
        exc = self.last_error
        if exc is None:
            self._say("No Autotask error in this session.")
            return
        self._say(_display.error_detail(exc, self._last_error_tb, self.session.secrets()))

    # ---------------------------------------------------------------------------- %autotask
    @no_var_expand  # values enter only through :name, so text cannot become part of a filter or path
    @line_cell_magic
    def autotask(self, line: str = "", cell: str | None = None) -> Any:
        """Query Autotask into a DataFrame, or send a raw request.

        %autotask query ENTITY [--fields a,b] [--limit N] [--count] [-o NAME] [--labels] [where …]
        %%autotask query ENTITY [options]      (the condition in the cell body)
        %autotask GET|POST|PATCH|PUT|DELETE /PATH [--body NAME] [--dry-run] [--raw] [-o NAME]
        %autotask fields ENTITY
        %autotask update|create|delete ENTITY -i NAME [--dry-run] [-o NAME] [--yes] [--retry-failed OUTCOMES]
        """
        head = line.strip().partition(" ")[0].upper()
        method = head in _commands.METHODS
        # Words after "METHOD /path" are never data: a secret-looking one there is refused too.
        what = (request_line_credential(line) if method else None) or line_option_credential(
            line, extra_words_from=2 if method else None
        )
        if what is not None:
            # IPython stored the line before the magic ran: take it out of history, send nothing.
            scrub_history(self.shell, line)
            kind = "a request line" if method else "a line"
            err = ConfigurationError(
                f"%autotask refuses {kind} carrying a credential ({what}): nothing was sent, and "
                "the line was removed from IPython history",
                hint="log in with %autotask_login (credentials from the environment or a hidden prompt); "
                "if a real credential was typed, clear it from the notebook cell and rotate it",
            )
            self._fail(err)
            raise err
        return self._run(self._autotask, line, cell)

    def _autotask(self, line: str, cell: str | None) -> Any:
        stripped = _line.strip_comment(line).strip()
        if not stripped or stripped in ("help", "-h", "--help"):
            self._say(_commands.USAGE)
            return None
        head, _, rest = stripped.partition(" ")
        _write_commands.check_mixed(head, rest)
        if head in _write_commands.WRITE_COMMANDS:
            cmd = _write_commands.parse_write(head, rest, cell, self._user_ns)
            return _write_commands.run_write(self.runner, cmd, self.confirm_above)
        if head.upper() in _commands.METHODS:
            api_root = self.session.api_root()
            return self.runner.request(_commands.parse_request(head.upper(), rest, cell, self._user_ns, api_root))
        if head.lower() == "query":
            return self.runner.query(_commands.parse_query(rest, cell, self._user_ns))
        if head.lower() == "fields":
            return self.runner.fields(_commands.parse_fields(rest))
        raise _commands.unknown_command(head, self.session.known_entities)

    # ---------------------------------------------------------------------------- completion
    def complete(self, context: Any) -> dict[str, Any]:
        """IPython matcher (API v2): entity names after ``query`` and in paths; field names in query
        bodies, after ``--fields`` and after ``where``, once the entity's metadata is known."""
        return matcher_answer(context, self.session)

    # ---------------------------------------------------------------------------- shutdown
    def close(self) -> None:
        """Close the client, stop the sandbox, the progress and status widgets (``%unload_ext``)."""
        if self._closed:
            return
        self._closed = True
        self.session.close()
        widget = sys.modules.get(f"{__package__}._widget")
        close_all = getattr(widget, "close_all", None)
        if callable(close_all):
            try:
                close_all()
            except Exception:
                pass


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
    cleanup = getattr(ip, "input_transformers_cleanup", None)
    if cleanup is not None and keep_empty_cell not in cleanup:
        cleanup.append(keep_empty_cell)
    completer = getattr(ip, "Completer", None)
    if completer is not None and hasattr(completer, "custom_matchers"):
        matcher = magic.complete
        _mark_matcher(matcher)
        completer.custom_matchers.append(matcher)
    return magic


def keep_empty_cell(lines: list[str]) -> list[str]:
    """IPython input transformer: a ``%%autotask`` cell with nothing below its first line reaches the
    magic (with a blank body) instead of IPython's "the cell body is empty" error, so
    ``%%autotask GET /Companies/0`` alone works, and an empty query cell gets the magic's own answer."""
    if lines and lines[0].lstrip().startswith("%%autotask") and not "".join(lines[1:]).strip():
        return [lines[0].rstrip("\n") + "\n", " \n"]
    return lines


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
    cleanup = getattr(ip, "input_transformers_cleanup", None)
    if cleanup is not None and keep_empty_cell in cleanup:
        cleanup.remove(keep_empty_cell)
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
