"""``%autotask update|create|delete ENTITY -i NAME``: writes from a DataFrame in the namespace.

Lower-case ``update``/``create``/``delete`` followed by an entity are frame commands; upper-case methods
followed by a ``/path`` are raw requests (``_commands``). A line mixing the two (``DELETE Tickets -i x``,
``delete /Tickets/1``) is refused before anything is sent. ``-i NAME`` is, like ``--body`` and
``:name``, an explicit way for namespace data to enter a request.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from .._exceptions import AutotaskError, ConfigurationError
from . import _line
from ._commands import ENTITY_RE, METHODS, _check_output

if TYPE_CHECKING:  # pragma: no cover
    from ._runner import Runner

__all__ = ["WRITE_COMMANDS", "WriteCommand", "check_mixed", "parse_write", "run_write"]

WRITE_COMMANDS = ("update", "create", "delete")
_VALUED = frozenset({"-i", "--input", "-o", "--output", "--nulls", "--retry-failed", "--match"})


@dataclass(frozen=True)
class WriteCommand:
    """``%autotask update|create|delete ENTITY -i NAME …`` with the namespace values already looked up."""

    kind: str
    entity: str
    input: str
    frame: Any
    output: str | None = None
    dry_run: bool = False
    nulls: str = "leave"
    force: bool = False
    yes: bool = False
    retry: Any = None
    match: tuple[str, ...] | None = None

    @property
    def line(self) -> str:
        return f"%autotask {self.kind} {self.entity} -i {self.input}"


def _parser(kind: str) -> MagicArgumentParser:
    p = MagicArgumentParser(prog=f"%autotask {kind}", add_help=False)
    p.add_argument("entity", help="entity name, e.g. Tickets")
    p.add_argument("-i", "--input", default=None, help="the DataFrame (or ids) in the namespace")
    p.add_argument("-o", "--output", default=None, help="store the outcome frame in this variable")
    p.add_argument("--dry-run", action="store_true", help="preview: send no write")
    p.add_argument("--yes", action="store_true", help="do not ask before a big write")
    p.add_argument("--retry-failed", default=None, metavar="OUTCOMES", help="re-send the failed rows of an outcome")
    if kind == "update":
        p.add_argument("--nulls", choices=["leave", "clear"], default="leave", help="missing cells: leave or clear")
        p.add_argument("--force", action="store_true", help="send rows that change nothing too")
    if kind == "create":
        p.add_argument("--match", default=None, metavar="COLS", help="columns that find an existing record")
    return p


def check_mixed(head: str, rest: str) -> None:
    """Refuse a line mixing a raw request and a frame command, before either parser reads it."""
    words = [w.value for w in _line.words(rest)]
    target = words[0] if words else ""
    if head in WRITE_COMMANDS and target.startswith(("/", "http:", "https:")):
        raise UsageError(
            f"lower-case {head} is a frame command ({head} ENTITY -i NAME); "
            f"for a raw request write {head.upper()} {target}"
        )
    if head.upper() in METHODS and head not in WRITE_COMMANDS and any(w in ("-i", "--input") for w in words):
        frame_cmd = {"PATCH": "update", "POST": "create", "DELETE": "delete"}.get(head.upper(), "update")
        raise UsageError(
            f"{head} /PATH is a raw request and takes no -i; for a frame write "
            f"%autotask {frame_cmd} {target.strip('/') or 'ENTITY'} -i NAME"
        )
    if head.upper() in ("UPDATE", "CREATE") and head not in WRITE_COMMANDS:
        raise UsageError(f"frame commands are lower-case: %autotask {head.lower()} ENTITY -i NAME")


def parse_write(kind: str, rest: str, cell: str | None, user_ns: Mapping[str, Any]) -> WriteCommand:
    """``ENTITY -i NAME [options]`` -> a WriteCommand; the frame and outcome come from ``user_ns``."""
    if cell and cell.strip():
        raise UsageError(f"%autotask {kind} takes no cell body: the rows come from -i NAME")
    argv, _ = _line.split_options(rest, _VALUED)
    args = _parser(kind).parse_args(argv)
    if not ENTITY_RE.match(args.entity):
        raise UsageError(f"{args.entity!r} is not an entity name (e.g. Tickets)")
    if args.input is None:
        raise UsageError(f"%autotask {kind} {args.entity} needs -i NAME: the DataFrame holding the rows")
    _check_output(args.output)
    frame = _lookup(user_ns, args.input, "-i")
    _check_input(kind, args.input, frame)
    retry = _lookup(user_ns, args.retry_failed, "--retry-failed") if args.retry_failed else None
    if retry is not None and not (hasattr(retry, "columns") and "status" in retry.columns):
        raise UsageError(f"--retry-failed {args.retry_failed}: expected the outcome frame of an earlier run (-o NAME)")
    match = getattr(args, "match", None)
    return WriteCommand(
        kind,
        args.entity,
        args.input,
        frame,
        output=args.output,
        dry_run=args.dry_run,
        nulls=getattr(args, "nulls", "leave"),
        force=getattr(args, "force", False),
        yes=args.yes,
        retry=retry,
        match=tuple(c.strip() for c in match.split(",") if c.strip()) if match else None,
    )


def _lookup(user_ns: Mapping[str, Any], name: str, option: str) -> Any:
    if name not in user_ns:
        raise UsageError(f"{option} {name}: no such variable")
    return user_ns[name]


def _check_input(kind: str, name: str, value: Any) -> None:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return
    if kind == "delete" and isinstance(value, (pd.Series, list, tuple, set, pd.Index)):
        return
    wanted = "a DataFrame, Series or list of ids" if kind == "delete" else "a DataFrame"
    raise UsageError(f"-i {name}: expected {wanted}, got {type(value).__name__}")


# ---------------------------------------------------------------------------------------- running


def run_write(runner: Runner, cmd: WriteCommand, confirm_above: int) -> Any:
    """Preview or apply ``cmd``; the outcome frame (or None when stored with ``-o``)."""
    from ._runner import PARTIAL_NAME

    client = runner.session.ensure_client()
    progress = _WriteProgress(runner, cmd)
    options: dict[str, Any] = {"dry_run": cmd.dry_run, "retry": cmd.retry, "on_progress": progress.update}
    if cmd.kind == "update":
        options.update(nulls=cmd.nulls, force=cmd.force)
    if cmd.match:
        options["match"] = list(cmd.match)
    if not cmd.yes:
        options["confirm"] = lambda n: _confirm(runner, cmd, n, confirm_above)
    started = time.monotonic()
    try:
        result = getattr(client, cmd.kind)(cmd.entity, cmd.frame, **options)
    except KeyboardInterrupt as exc:
        outcome = getattr(exc, "outcome", None)
        progress.finish()
        if outcome is None:  # stopped while the frame was checked or read: nothing was sent
            raise AutotaskError(
                f"{cmd.kind} {cmd.entity}: interrupted (Ctrl-C) while the frame was checked; no write was sent"
            ) from None
        runner.user_ns()[PARTIAL_NAME] = outcome
        done = int((outcome["status"] != "not sent").sum())
        raise AutotaskError(
            f"{cmd.kind} {cmd.entity}: interrupted (Ctrl-C) after {done:,} of {len(outcome):,} rows; "
            f"the outcome so far is in {PARTIAL_NAME}",
            hint=f"send the rest with %autotask {cmd.kind} {cmd.entity} -i {cmd.input} --retry-failed {PARTIAL_NAME}",
        ) from None
    progress.finish()
    runner.say(_summary(cmd, result, time.monotonic() - started))
    if cmd.output:
        runner.user_ns()[cmd.output] = result
        return None
    return result


def _confirm(runner: Runner, cmd: WriteCommand, writes: int, above: int) -> bool:
    """Ask once with ``input()`` above ``confirm_above`` writes; refuse in one line when no one can answer."""
    if writes <= above:
        return True
    if not runner.session.prompt_allowed():
        raise ConfigurationError(
            f"{cmd.kind} {cmd.entity}: {writes:,} writes is more than AutotaskMagic.confirm_above ({above}) and "
            "no one can confirm here; nothing was sent",
            hint="add --yes to the line (or raise %config AutotaskMagic.confirm_above)",
        )
    answer = runner.session.ask(f"{cmd.kind} {writes:,} {cmd.entity} records? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _summary(cmd: WriteCommand, result: Any, elapsed: float) -> str:
    if cmd.dry_run:
        if cmd.kind == "update":
            missing = int((result["note"] == "id does not exist").sum())
            ids = result.loc[result["field"].notna(), "id"].nunique()  # rows naming a changed field
            extra = f"; {missing} ids do not exist" if missing else ""
            return f"{cmd.entity} (dry run, nothing sent): {len(result)} changes in {ids} records{extra}"
        return f"{cmd.entity} (dry run, nothing sent): {len(result)} rows checked"
    counts = result["status"].value_counts().to_dict()
    parts = ", ".join(f"{n} {s}" for s, n in counts.items())
    sent = (result.attrs.get("autotask") or {}).get("sent", 0)
    return f"{cmd.entity} {cmd.kind}: {len(result)} rows, {sent} writes sent in {elapsed:.1f} s ({parts})"


class _WriteProgress:
    """Rows done / failed / unknown: a text line rewritten in place (``\\r``), from half a second on
    (a write that is over sooner needs only its summary line)."""

    SHOW_AFTER = 0.5  # seconds

    def __init__(self, runner: Runner, cmd: WriteCommand) -> None:
        self.mode = getattr(runner.options, "progress", "auto")
        self.entity = cmd.entity
        self.kind = cmd.kind
        self._stream = sys.stdout
        self._lock = threading.Lock()
        self._width = 0
        self._shown = False
        self._started = time.monotonic()

    def update(self, ok: int, failed: int, unknown: int, total: int) -> None:
        if self.mode == "none" or total < 2 or time.monotonic() - self._started < self.SHOW_AFTER:
            return
        done = ok + failed + unknown
        filled = round(20 * done / total)
        bar = "[" + "#" * filled + "-" * (20 - filled) + "]"
        line = f"{self.entity} {self.kind} {bar} {done}/{total} rows ({ok} ok, {failed} failed, {unknown} unknown)"
        with self._lock:
            try:
                self._stream.write("\r" + line.ljust(self._width))
                self._stream.flush()
            except Exception:  # a broken stream must never stop the writes
                self.mode = "none"
            self._width = max(self._width, len(line))
            self._shown = True

    def finish(self) -> None:
        with self._lock:
            if self._shown:
                try:
                    self._stream.write("\r" + " " * self._width + "\r")
                    self._stream.flush()
                except Exception:
                    pass
                self._shown = False
