"""The analyst's options of ``%autotask query``: ``--expand``, ``--refresh NAME [--no-fallback]``,
``--resume``, and the dry run's note on relative dates and picklist labels. The work itself is the
client's (``client._expand``, ``client._refresh``, ``client._resume``); this is what the magic says.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ._commands import QueryCommand

__all__ = ["check_analyst_options", "default_expand", "refresh_text", "resolution_note"]

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_analyst_options(args: argparse.Namespace) -> None:
    """--expand, --refresh and --resume: what they do not go with."""
    if args.expand is not None and (args.count or args.raw):
        raise UsageError("--expand adds columns to a DataFrame: it does not go with --count or --raw")
    if args.no_fallback and args.refresh is None:
        raise UsageError("--no-fallback belongs to --refresh NAME")
    if args.refresh is not None:
        if not _IDENT_RE.match(args.refresh):
            raise UsageError(f"--refresh needs the variable holding the frame, got {args.refresh!r}")
        clash = next(
            (
                o
                for o, on in (
                    ("--count", args.count),
                    ("--raw", args.raw),
                    ("--limit", args.limit),
                    ("--resume", args.resume),
                    ("--dry-run", args.dry_run),
                )
                if on
            ),
            None,
        )
        if clash is not None:
            raise UsageError(f"--refresh and {clash} do not go together; drop one of them")
    if args.resume and (args.count or args.dry_run):
        raise UsageError("--resume continues a stopped pull: it does not go with --count or --dry-run")


def refresh_text(name: str, info: dict[str, Any]) -> str:
    """One line on what a refresh did."""
    r = info.get("refresh") or {}
    done = f"{name}: {info.get('records', 0):,} rows"
    changes = f"{r.get('updated', 0)} updated, {r.get('added', 0)} added, {r.get('dropped', 0)} dropped"
    since = f"changed since {r.get('since')} ({r.get('field')})"
    if r.get("fallback"):
        return f"{done} — {r.get('deleted')} deleted on the server, so it was pulled again in full"
    if r.get("stale"):
        return f"{done}, {changes}; {r['stale']} rows are stale (deleted on the server; --no-fallback kept them)"
    relative = " (relative dates keep the values of the first pull)" if info.get("relative") else ""
    return f"{done}, {changes}, {since}; {r.get('requests', 0)} requests{relative}"


def resolution_note(cmd: QueryCommand, filter_: list[dict[str, Any]], default_tz: str) -> str:
    """The dry run's line on relative dates and picklist labels, as they were resolved for sending."""
    from ..query._relative import resolved_text

    notes = resolved_text(cmd.filter, filter_)
    if not notes:
        return ""
    return f"\n(resolved now, in {cmd.tz or default_tz}: " + "; ".join(notes) + ")"


def default_expand(specs: str, fields: Any) -> str:
    """``%config AutotaskMagic.expand`` for one entity: only the fields that are references of it (a default
    naming ``companyID`` must not fail a query of ``Resources``, which has none)."""
    keep = []
    for spec in (s.strip() for s in specs.split(",")):
        info = fields.get(spec.split("=", 1)[0].strip(), udf=False) if spec and fields is not None else None
        if info is not None and getattr(info, "is_reference", False):
            keep.append(spec)
    return ",".join(keep)
