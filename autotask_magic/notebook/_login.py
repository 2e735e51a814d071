"""Where ``%autotask_login`` gets credentials: options, the environment, or a person at a prompt.

Secrets never come from the magic's line (it is saved in history and in the notebook). They come from
the environment or from ``getpass``, and ``getpass`` is used only when someone can answer: a kernel
whose front end allows stdin, or an interactive terminal. Otherwise login fails at once, naming the
variables to set. No IPython import here; the magics pass the shell in.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigurationError
from ..client._credentials import Secret, read_env
from ..client._mode import API_USER_ENV, OAUTH_ENV, infer_mode

__all__ = [
    "API_USER_PROMPTS",
    "OAUTH_PROMPTS",
    "LoginPlan",
    "can_prompt",
    "check_no_secret_arguments",
    "line_option_credential",
    "plan_login",
    "request_line_credential",
]

# (environment variable, prompt text, is secret) per mode, in prompting order. The variable names
# themselves live in client._mode (OAUTH_ENV, API_USER_ENV).
OAUTH_PROMPTS: tuple[tuple[str, str, bool], ...] = (
    ("AUTOTASK_CLIENT_ID", "Autotask OAuth client id: ", False),
    ("AUTOTASK_CLIENT_SECRET", "Autotask OAuth client secret: ", True),
)
API_USER_PROMPTS: tuple[tuple[str, str, bool], ...] = (
    ("AUTOTASK_USERNAME", "Autotask API username: ", False),
    # The integration code identifies the integration to Autotask and is sent with every request;
    # treat it like a credential: never echoed.
    ("AUTOTASK_INTEGRATION_CODE", "Autotask API integration code (tracking identifier): ", True),
    ("AUTOTASK_SECRET", "Autotask API secret: ", True),
)

# Option names that would put a credential on the line. Matched on the name only: the value is never
# looked at, echoed or stored.
_SECRET_OPTION = re.compile(
    r"^--?(?:[a-z-]*secret[a-z-]*|password|passwd|pwd|token|access-token|bearer|api-key|apikey|"
    r"integration-code|integrationcode|tracking-identifier|key)(?:=.*)?$",
    re.IGNORECASE,
)
# Long random-looking words (no spaces, mixed classes) are probably pasted secrets or tokens.
_SECRET_LOOKING = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9+/=_*$#@!.~-]{20,}$")


def _secret_refusal(what: str) -> ConfigurationError:
    return ConfigurationError(
        f"%autotask_login refuses {what}: its line is saved in IPython history and in the notebook, "
        "so a secret there would leak",
        hint=(
            "put secrets in the environment (AUTOTASK_CLIENT_SECRET, or AUTOTASK_INTEGRATION_CODE and "
            "AUTOTASK_SECRET) or run %autotask_login alone to be asked with a hidden prompt; if a real "
            "secret was typed, rotate it"
        ),
    )


def check_no_secret_arguments(
    argv: Sequence[str], identifier_options: Sequence[str], url_options: Sequence[str] = ()
) -> None:
    """Refuse any option that names a secret, and any value that looks like one.

    ``identifier_options`` take identifiers (``--client-id``, ``--username``): a value there that looks
    like a pasted secret is refused, since that is how secrets end up in history. ``url_options`` take
    URLs: one carrying credentials (``user:pass@host`` or a secret-named query parameter) is refused.
    Positional words are refused (the login magic takes none). The offending value is never echoed.
    """
    expecting: str | None = None
    for word in argv:
        if expecting is not None:
            _check_value(expecting, word, identifier_options, url_options)
            expecting = None
            continue
        if word.startswith("-"):
            name, eq, value = word.partition("=")
            if _SECRET_OPTION.match(name):
                raise _secret_refusal(f"a secret option ({name})")
            if eq:
                _check_value(name, value, identifier_options, url_options)
            elif name in identifier_options or name in url_options:
                expecting = name
            continue
        raise _secret_refusal("positional values (is that a secret?)")


def _check_value(name: str, value: str, identifier_options: Sequence[str], url_options: Sequence[str]) -> None:
    if name in url_options:
        if re.match(r"^[a-z][a-z0-9+.-]*://[^/?#]*@", value, re.IGNORECASE) or re.search(
            r"[?&#](?:[a-z_-]*secret|password|token|access_token|key)=", value, re.IGNORECASE
        ):
            raise _secret_refusal(f"credentials inside {name}")
        if "#" in value:
            # A fragment is never sent, so it has no business in an endpoint URL; it can hide a secret.
            raise _secret_refusal(f"a URL with a '#' fragment in {name}")
    elif name in identifier_options and _looks_like_secret(value):
        raise _secret_refusal(f"a secret-looking value for {name}")


def _looks_like_secret(value: str) -> bool:
    # Identifiers are e-mail addresses (API users), UUIDs or short names; secrets are long random
    # mixed-case strings. Err on the side of refusing: an id can always come from the environment.
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        return False
    if re.fullmatch(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}", value):
        return False
    if len(value) < 20 or not _SECRET_LOOKING.match(value):
        return False
    return any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)


def can_prompt(shell: Any, stdin: Any = None) -> bool:
    """True when a person can answer a prompt now.

    In a kernel, that is the front end's ``allow_stdin`` for this execution (nbclient, papermill and
    voila run with it off). In a terminal, stdin must be a TTY. ``CI`` in the environment means no one
    is there in either case.
    """
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        return bool(getattr(kernel, "_allow_stdin", False))
    stdin = sys.stdin if stdin is None else stdin
    if stdin is None or getattr(stdin, "closed", False):
        return False
    try:
        return bool(stdin.isatty())
    except (AttributeError, ValueError):
        return False


@dataclass
class LoginPlan:
    """What login will use: the mode and a complete ``AUTOTASK_*`` mapping (secrets as ``Secret``)."""

    mode: str
    env: dict[str, str | Secret]
    prompted: list[str]


def _mode_vars(mode: str) -> tuple[tuple[str, str, bool], ...]:
    return OAUTH_PROMPTS if mode == "oauth" else API_USER_PROMPTS


def _how_to(mode: str | None) -> str:
    oauth = " and ".join(OAUTH_ENV) + " (OAuth)"
    api = ", ".join(API_USER_ENV[:-1]) + f" and {API_USER_ENV[-1]} (API user)"
    if mode == "oauth":
        return oauth
    if mode == "api_user":
        return api
    return f"{api} or {oauth}"


def plan_login(
    *,
    mode: str | None,
    overrides: Mapping[str, str | None],
    environ: Mapping[str, str | Secret],
    prompt_allowed: bool,
    ask: Callable[[str], str],
    ask_secret: Callable[[str], str],
    default_mode: str = "api_user",
) -> LoginPlan:
    """Merge options over the environment, infer the mode, prompt for what is missing (or fail).

    ``overrides`` maps ``AUTOTASK_*`` names to option values (None = not given). The mode comes from
    :func:`~autotask_magic.client._mode.infer_mode` (explicit mode, ``AUTOTASK_MODE``, then the
    credential sets), else ``default_mode``. Raises ``ConfigurationError`` naming the variables when
    something is missing and nobody can be asked.
    """
    # Secrets become Secret here, so no frame below (Verbose tracebacks show locals) holds one in plain text.
    env = read_env(environ)
    for key, value in overrides.items():
        if value is not None and value != "":
            env[key] = value
    # One decision for all login paths (client._mode.infer_mode); None means no credentials at all.
    inferred = infer_mode(env, mode)
    guessed = inferred is None
    mode = default_mode if inferred is None else inferred
    missing = [(var, text, secret) for var, text, secret in _mode_vars(mode) if not env.get(var)]
    prompted: list[str] = []
    if missing and not prompt_allowed and guessed:
        # Nothing says which mode: name both, not only the default's variables.
        raise ConfigurationError(
            "not logged in: no Autotask credentials are set and there is no one to ask (no terminal, or "
            "the front end does not allow input)",
            hint=f"set {_how_to(None)} in the kernel's environment, or run %autotask_login --sandbox "
            "to try the built-in sandbox",
        )
    if missing and not prompt_allowed:
        names = ", ".join(var for var, _, _ in missing)
        raise ConfigurationError(
            f"not logged in: {names} not set and there is no one to ask (no terminal, or the front end "
            "does not allow input)",
            hint=f"set {_how_to(mode)} in the kernel's environment, or run %autotask_login --sandbox "
            "to try the built-in sandbox",
        )
    for var, text, secret in missing:
        if secret:
            env[var] = Secret(_ask_for(var, text, ask_secret, mode))
        else:
            env[var] = _ask_for(var, text, ask, mode)
        prompted.append(var)
    return LoginPlan(mode=mode, env=env, prompted=prompted)


def _ask_for(var: str, text: str, ask: Callable[[str], str], mode: str) -> str:
    """One prompt; a cancelled or impossible prompt is a one-line ConfigurationError naming ``var``."""
    try:
        value = ask(text)
    except (EOFError, KeyboardInterrupt, OSError):
        raise ConfigurationError(
            f"login cancelled while asking for {var}", hint=f"set {_how_to(mode)} in the environment"
        ) from None
    except Exception as exc:  # StdinNotImplementedError and friends: nobody can answer after all
        if type(exc).__name__ != "StdinNotImplementedError":
            raise
        raise ConfigurationError(
            f"not logged in: {var} is not set and the front end does not allow input",
            hint=f"set {_how_to(mode)} in the kernel's environment",
        ) from None
    value = (value or "").strip()
    if not value:
        raise ConfigurationError(f"login cancelled: no value given for {var}", hint=f"set {_how_to(mode)}")
    return value


def not_logged_in_error() -> ConfigurationError:
    """What ``%autotask`` says when there is no session and the environment cannot make one.

    One short line (it must not wrap in a notebook); the variables a login reads are in ``.detail``,
    which ``%autotask_last_error`` shows.
    """
    err = ConfigurationError(
        "not logged in", hint="run %autotask_login (it asks for what is missing) or %autotask_login --sandbox"
    )
    err.detail = f"without prompts, set {_how_to(None)} before starting the kernel"  # type: ignore[attr-defined]
    return err


SCRUBBED_LINE = "<removed by autotask_magic: the line carried a secret>"


def scrub_history(shell: Any, line: str) -> int:
    """Remove a refused magic ``line`` from the shell's input history: memory, cache and database.

    By the time a magic runs, IPython has already stored its cell (``In``, ``_ih``, ``_i*``, the
    history database or its write cache). A line refused because it carries a secret is replaced by
    :data:`SCRUBBED_LINE` everywhere, so the secret is not persisted. Returns how many places changed.
    Best effort: the notebook cell itself still holds the text (the refusal says so).
    """
    if not line or not line.strip():
        return 0
    # The raw cell holds the line as typed; the parsed cell holds it as a Python string literal.
    needles = sorted(
        {n for n in (line, line.strip(), repr(line)[1:-1], repr(line.strip())[1:-1]) if n.strip()},
        key=len,
        reverse=True,
    )

    def clean(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        for needle in needles:
            if needle in text:
                text = text.replace(needle, SCRUBBED_LINE)
        return text

    changed = 0
    hm = getattr(shell, "history_manager", None)
    if hm is not None:
        changed += _scrub_history_manager(hm, clean)
    ns = getattr(shell, "user_ns", None)
    if isinstance(ns, dict):
        for key in [k for k in ns if isinstance(k, str) and re.fullmatch(r"_i+|_i\d+", k)]:
            value = ns[key]
            new = clean(value)
            if isinstance(value, str) and new != value:
                ns[key] = new
                changed += 1
    # A terminal keeps its own prompt_toolkit history of what was typed (up-arrow recall).
    pt_history = getattr(getattr(shell, "pt_app", None), "history", None)
    loaded = getattr(pt_history, "_loaded_strings", None)
    if isinstance(loaded, list):
        changed += _scrub_list(loaded, clean)
    return changed


def _scrub_list(entries: list[Any], clean: Callable[[Any], Any]) -> int:
    changed = 0
    for i, entry in enumerate(entries):
        new = clean(entry)
        if new is not entry and new != entry:
            entries[i] = new
            changed += 1
    return changed


def _scrub_history_manager(hm: Any, clean: Callable[[Any], Any]) -> int:
    """IPython's HistoryManager: In/_ih, the _i* shortcuts, the database write cache and the database."""
    changed = 0
    for name in ("input_hist_raw", "input_hist_parsed"):
        entries = getattr(hm, name, None)
        if isinstance(entries, list):
            changed += _scrub_list(entries, clean)
    for name in ("_i00", "_i", "_ii", "_iii"):
        value = getattr(hm, name, None)
        new = clean(value)
        if isinstance(value, str) and new != value:
            setattr(hm, name, new)
            changed += 1
    lock = getattr(hm, "db_input_cache_lock", None)
    # Under the cache lock the saving thread cannot be between taking the cache and writing it,
    # so the line is either still in the cache or already in the database.
    with lock if lock is not None else _NullLock():
        cache = getattr(hm, "db_input_cache", None)
        if isinstance(cache, list):
            for i, row in enumerate(cache):
                new_row = tuple(clean(x) for x in row)
                if new_row != tuple(row):
                    cache[i] = new_row
                    changed += 1
        changed += _scrub_db(hm, clean)
    return changed


class _NullLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _scrub_db(hm: Any, clean: Callable[[Any], Any]) -> int:
    import sqlite3

    db = getattr(hm, "db", None)
    session = getattr(hm, "session_number", None)
    if not isinstance(db, sqlite3.Connection) or session is None:
        return 0
    changed = 0
    try:
        rows = db.execute("SELECT line, source, source_raw FROM history WHERE session = ?", (session,)).fetchall()
        updates = [
            (clean(src), clean(raw), session, num) for num, src, raw in rows if clean(src) != src or clean(raw) != raw
        ]
        if updates:
            with db:
                db.executemany("UPDATE history SET source = ?, source_raw = ? WHERE session = ? AND line = ?", updates)
            changed = len(updates)
    except sqlite3.Error:  # a locked or closed database: memory and cache are clean already
        return changed
    return changed


def line_carries_secret(
    line: str,
    identifier_options: Sequence[str],
    url_options: Sequence[str] = (),
    flags: Sequence[str] = (),
) -> bool:
    """True when a login ``line`` is refused for carrying (or possibly carrying) a secret.

    That is: :func:`check_no_secret_arguments` refuses it, or it has an option the magic does not
    know (whose value may be a secret). The caller then scrubs the line from history.
    """
    import shlex

    try:
        words = shlex.split(line)
    except ValueError:  # unbalanced quotes: judge the plain words
        words = line.split()
    try:
        check_no_secret_arguments(words, identifier_options, url_options)
    except ConfigurationError:
        return True
    takes_value = set(identifier_options) | set(url_options)
    known = takes_value | set(flags)
    prev = ""
    for word in words:
        if prev in takes_value:
            prev = ""
            continue
        name = word.split("=", 1)[0]
        if word.startswith("-") and name not in known:
            return True
        prev = name if "=" not in word else ""
    return False


# Credential-looking parts of a raw request line (a path, its query string, or a pasted header).
_REQUEST_CREDENTIALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a bearer token", re.compile(r"\bbearer\s+\S", re.IGNORECASE)),
    # The lookbehind starts a match only where a scheme can start: without it a long run of letters
    # is scanned from every position (quadratic: minutes for a 200,000-character path).
    ("credentials in the URL", re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/?#\s@]*@", re.IGNORECASE)),
    (
        "a credential parameter",
        re.compile(
            r"(?:^|[?&;\s/])(?:[a-z_-]*secret[a-z_-]*|access[_-]?token|refresh[_-]?token|id[_-]?token|token|"
            r"password|passwd|pwd|api[_-]?key|apikey|integration[_-]?code|apiintegrationcode|"
            r"authorization)\s*[=:]",
            re.IGNORECASE,
        ),
    ),
)


# Options that would carry a header or credentials on a %autotask line (the magic has none of them).
_HEADER_OPTION = re.compile(r"^(?:-H|--headers?|--cookies?|--auth|--user|-u|--bearer)$", re.IGNORECASE)


def line_option_credential(line: str, *, extra_words_from: int | None = None) -> str | None:
    """What secret a ``%autotask`` line's options seem to carry (``"a secret option (--token)"``...), or None.

    Refused: an option named like a secret (``--secret``, ``--token``, ``--password``...), a header or
    auth option (``--header Secret V``), and with ``extra_words_from`` (the index of the first word
    after ``METHOD /path``) any secret-looking positional word from there on. Option names are safe to
    name; values are never returned.
    """
    # Quoted words are values (a where clause's 'text'), not options; "#" starts a comment.
    words = []
    for raw in re.findall(r"""'[^']*'?|"[^"]*"?|\S+""", line):
        if raw.startswith("#"):
            break
        words.append(raw)
    for i, word in enumerate(words):
        if word[:1] in ("'", '"'):
            value = word.strip("'\"")
            if extra_words_from is not None and i >= extra_words_from and _looks_like_secret(value):
                return "a secret-looking word"
            continue
        if word.startswith("-") and not re.fullmatch(r"-[\d.]+", word):
            name = word.split("=", 1)[0]
            if _SECRET_OPTION.match(name):
                return f"a secret option ({name})"
            if _HEADER_OPTION.match(name):
                return f"a header option ({name})"
        elif extra_words_from is not None and i >= extra_words_from and _looks_like_secret(word):
            return "a secret-looking word"
    return None


def request_line_credential(line: str) -> str | None:
    """What credential a ``%autotask METHOD /path`` line seems to carry (``"a bearer token"``…), or None.

    Checked on the line as typed and URL-decoded (``access%5Ftoken=``). Only a description is returned:
    the value is never echoed.
    """
    from urllib.parse import unquote_plus

    for text in dict.fromkeys((line, unquote_plus(line))):
        for what, pattern in _REQUEST_CREDENTIALS:
            if pattern.search(text):
                return what
    return None
