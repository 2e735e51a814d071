"""The reliability suite's session-wide counters: what the tests proved, printed at the end of a run."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from autotask_magic.sandbox import Sandbox


class Tally:
    """Counters summed over the whole session (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def absorb(self, sb: Sandbox) -> None:
        """Add a sandbox's server-side counters (call once per sandbox, at the end of its test)."""
        with self._lock:
            for kind, n in sb.stats.faults_injected.items():
                self.faults[kind] += n
            self.counts["api requests"] += sb.stats.api_requests
            self.counts["token requests"] += sb.stats.token_requests
            self.counts["writes"] += len(sb.stats.writes)

    def summary(self, terminalreporter: Any) -> None:
        """Write the totals as a section of pytest's terminal summary (nothing when nothing was counted)."""
        if not self.counts and not self.faults:
            return
        tr = terminalreporter
        tr.section("autotask-magic reliability summary")
        faults = sum(self.faults.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        tr.write_line(f"faults injected:   {faults} ({detail})")
        tr.write_line(
            f"requests made:     {self.counts['api requests']} API + {self.counts['token requests']} token "
            f"(+ {self.counts['writes']} writes applied)"
        )
        tr.write_line(f"records verified:  {self.counts['records verified']} against ground truth")
        tr.write_line(f"bad inputs tried:  {self.counts['bad inputs']}; fuzz cases: {self.counts['fuzz cases']}")
        tr.write_line(
            f"leak scan:         {self.counts['artefacts scanned']} artefacts, "
            f"{self.counts['secrets searched']} secrets/tokens searched, leaks found: {self.counts['leaks found']}"
        )


#: The one session-wide tally (also the ``tally`` fixture).
TALLY = Tally()
