"""The README, as a newcomer pastes it (issue 14, "Done when").

Every fenced block of README.md that holds Python or a magic runs **verbatim**, in README order, as one
cell each of ONE real kernel (nbclient on this interpreter) against the sandbox; any error fails the test.
Shell blocks (```bash) are not run; output samples are ```text. A block that needs a real tenant carries
``<!-- readme-test: skip (why) -->`` on the line right before its fence and is skipped by that marker
alone. The kernel's environment is what a reader following the README has: no credentials except the
``AUTOTASK_*`` variables of a sandbox (the ``export`` lines ``python3 -m autotask_magic.sandbox`` prints),
which the ``AutotaskClient.from_env()`` example reads.

The troubleshooting table is checked too: the messages it quotes are the ones the extension prints.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autotask_magic.sandbox import Sandbox
from tests._support.kernels import kernel_manager

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

LANGUAGES = {"python", "bash", "text"}  # every fence says which it is: nothing is run by guess
_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
_SKIP = re.compile(r"^skip\s*\((.+)\)$")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    language: str
    source: str
    skip: str | None  # the marker's reason, when the block is marked to be skipped

    @property
    def runnable(self) -> bool:
        """Python, or anything with a magic line; never a shell block."""
        if self.language == "bash":
            return False
        return self.language == "python" or any(ln.lstrip().startswith("%") for ln in self.source.splitlines())


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block in order. Raises ValueError on an unlabelled fence, an unclosed one, a marker
    that is not right before a fence, or a marker that says something other than ``skip (reason)``."""
    blocks: list[Block] = []
    lines = text.splitlines()
    pending: tuple[int, str] | None = None  # (line, reason) of a marker waiting for its fence
    i = 0
    while i < len(lines):
        raw = lines[i]
        marker = _MARKER.match(raw)
        fence = _FENCE.match(raw)
        if marker:
            if pending is not None:
                raise ValueError(f"README.md:{pending[0]}: readme-test marker not followed by a code block")
            skip = _SKIP.match(marker.group(1))
            if not skip:
                raise ValueError(f"README.md:{i + 1}: write <!-- readme-test: skip (why) -->, got {raw!r}")
            pending = (i + 1, skip.group(1))
        elif fence:
            language = fence.group(1)
            if language not in LANGUAGES:
                raise ValueError(f"README.md:{i + 1}: label the block ```{'|'.join(sorted(LANGUAGES))}, got {raw!r}")
            end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```"), None)
            if end is None:
                raise ValueError(f"README.md:{i + 1}: unclosed code block")
            reason = pending[1] if pending is not None else None
            blocks.append(Block(i + 1, language, "\n".join(lines[i + 1 : end]), reason))
            pending = None
            i = end
        elif raw.strip() and pending is not None:
            raise ValueError(f"README.md:{pending[0]}: readme-test marker not right before a code block")
        i += 1
    if pending is not None:
        raise ValueError(f"README.md:{pending[0]}: readme-test marker not followed by a code block")
    return blocks


# ------------------------------------------------------------------------------------ the kernel


def run_blocks(blocks: list[Block], *, env: dict[str, str], workdir: Path) -> list[str]:
    """Run the blocks as the cells of one notebook in one kernel; one line per block that failed."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(block.source) for block in blocks]
    replies: dict[int, dict[str, Any]] = {}

    def on_cell_executed(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        replies[cell_index] = execute_reply.get("content", {})

    client = NotebookClient(
        nb,
        km=kernel_manager(workdir / "kernels"),
        kernel_name="python3",
        timeout=60,
        allow_errors=True,  # run every block, then report each one that failed
        on_cell_executed=on_cell_executed,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env)
    failures = []
    for index, block in enumerate(blocks):
        # The reply's status, not the outputs: a UsageError (an unknown magic) is only a stderr stream.
        reply = replies.get(index)
        if reply is None:
            failures.append(f"README.md:{block.line}: did not run")
        elif reply.get("status") != "ok":
            failures.append(f"README.md:{block.line}: {reply.get('ename')}: {reply.get('evalue')}")
    return failures


def _reader_env(sandbox: Sandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTASK_")}
    env.update(sandbox.env("oauth"))  # the export lines `python3 -m autotask_magic.sandbox` prints
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["CI"] = "1"  # nobody can answer a prompt: a block that asks fails instead of hanging
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


@pytest.fixture(scope="module")
def env_sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=300, seed=14) as sb:
        yield sb


# ------------------------------------------------------------------------------------ the tests


@pytest.mark.notebook
def test_every_python_and_magic_block_of_the_readme_runs_verbatim(env_sandbox: Sandbox, tmp_path: Path) -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    runnable = [b for b in blocks if b.runnable and b.skip is None]
    # The README's examples: login, the Tour, the Python API, the Sandbox; far more than a handful.
    assert len(runnable) >= 8, [b.line for b in runnable]
    assert any("%autotask_login --sandbox" in b.source for b in runnable)
    failures = run_blocks(runnable, env=_reader_env(env_sandbox), workdir=tmp_path)
    assert not failures, "\n".join(failures)


def test_only_blocks_that_need_a_real_tenant_are_skipped() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    skipped = [b for b in blocks if b.skip is not None]
    assert skipped, "the README shows no real-tenant example"
    for block in skipped:
        assert block.skip == "needs a real tenant", f"README.md:{block.line}: skipped for {block.skip!r}"
        assert block.runnable, f"README.md:{block.line}: a marker on a block that would not run anyway"
        assert "--sandbox" not in block.source


def test_extraction_is_strict() -> None:
    good = "a\n<!-- readme-test: skip (needs a real tenant) -->\n```python\n%autotask_login\n```\n```bash\nls\n```\n"
    blocks = readme_blocks(good)
    assert [(b.line, b.language, b.skip, b.runnable) for b in blocks] == [
        (3, "python", "needs a real tenant", True),
        (6, "bash", None, False),
    ]
    assert readme_blocks("```text\n%load_ext x\n```\n")[0].runnable  # a magic runs wherever it stands
    for bad in (
        "```\nx = 1\n```\n",  # unlabelled
        "```python\nx = 1\n",  # unclosed
        "<!-- readme-test: skip (why) -->\nsome prose\n```python\nx\n```\n",  # marker not before the fence
        "<!-- readme-test: run it twice -->\n```python\nx\n```\n",  # not a skip
        "text\n<!-- readme-test: skip (why) -->\n",  # marker with no block
    ):
        with pytest.raises(ValueError):
            readme_blocks(bad)


@pytest.mark.notebook
def test_the_runner_reports_a_failing_block(env_sandbox: Sandbox, tmp_path: Path) -> None:
    """The harness can fail: an erroring block is reported by its README line, later blocks still run."""
    text = (
        "```python\nx = 1\n```\n\n```python\nx / 0\n```\n\n```python\ny = x + 1\n```\n\n"
        "```python\n%%not_a_magic\nz = 1\n```\n"
    )
    failures = run_blocks(readme_blocks(text), env=_reader_env(env_sandbox), workdir=tmp_path)
    assert failures == [
        "README.md:5: ZeroDivisionError: division by zero",
        "README.md:13: UsageError: Cell magic `%%not_a_magic` not found.",
    ]


# ------------------------------------------------------------------------- what a newcomer reads first

MAIN_JOB = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[demo]' && .venv/bin/python notebooks/run.py"


def test_the_two_commands_come_first_before_the_screenshot() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    shells = [b for b in readme_blocks(text) if b.language == "bash"]
    assert [b.source for b in shells[:2]] == [MAIN_JOB, "bash .ci/test.sh"]
    screenshot = next(i for i, line in enumerate(lines, 1) if line.startswith("!["))
    first_python = next(b.line for b in readme_blocks(text) if b.language == "python")
    assert shells[1].line < min(screenshot, first_python) and shells[1].line <= 40


def test_the_next_step_in_the_readme_is_what_run_py_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the main job (.venv/bin/python notebooks/run.py from the clone), run.py and the README agree."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_run_py", ROOT / "notebooks" / "run.py")
    assert spec is not None and spec.loader is not None
    run_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_py)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "executable", str(ROOT / ".venv" / "bin" / "python"))
    printed = run_py.next_step([run_py.OUT / "01-quickstart.ipynb"], [run_py.HERE / "01-quickstart.ipynb"])
    text = README.read_text(encoding="utf-8")
    lab = next(line.strip() for line in printed.splitlines() if " lab " in line)
    assert lab == ".venv/bin/jupyter lab notebooks/01-quickstart.ipynb"
    assert f"```bash\n{lab}\n```" in text
    assert "notebooks/_executed/01-quickstart.html" in printed and "notebooks/_executed/01-quickstart.html" in text


def test_shell_lines_work_on_a_fresh_debian() -> None:
    """No bare ``python`` (Debian has only python3), python3-venv is handled, the fast path is documented."""
    text = README.read_text(encoding="utf-8")
    for block in readme_blocks(text):
        if block.language == "bash":
            for line in block.source.splitlines():
                assert not re.match(r"^\s*python\s", line), f"README.md:{block.line}: {line!r} (use python3)"
    assert not re.search(r"`python -m ", text)
    assert "python3-venv" in text and "apt-get install python3-venv" in text
    assert "bash .ci/test.sh --fast tests/client -x" in text
    test_sh = (ROOT / ".ci" / "test.sh").read_text(encoding="utf-8")
    assert "apt_install python3-venv" in test_sh and '"${1:-}" = "--fast"' in test_sh


def test_the_sandbox_example_imports_what_it_uses() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    uses = [b for b in blocks if b.language == "python" and "Sandbox(" in b.source]
    assert uses and all("from autotask_magic.sandbox import Sandbox" in b.source for b in uses)


def test_no_magic_line_carries_a_trailing_comment() -> None:
    """Issue 14, point 20: examples paste verbatim; what a line does is said in the prose, not after a ``#``."""
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        if not block.runnable:
            continue
        for line in block.source.splitlines():
            if line.lstrip().startswith("%") or re.search(r"=\s*%", line):
                assert not re.search(r"\s#", line), f"README.md:{block.line}: trailing comment in {line!r}"


def test_every_binding_is_defined_before_it_is_used_and_explained() -> None:
    """``:since`` and ``:cause`` (issue 14, point 21): set by an earlier block, and the prose says what they are."""
    text = README.read_text(encoding="utf-8")
    defined: set[str] = set()
    used: set[str] = set()
    for block in (b for b in readme_blocks(text) if b.runnable and b.skip is None):
        magic = block.source.lstrip().startswith("%%autotask")
        for line in block.source.splitlines():
            if magic or line.lstrip().startswith("%autotask") or "= %autotask" in line:
                names = set(re.findall(r"(?<![\w:]):([A-Za-z_]\w*)", line))
                missing = names - defined
                assert not missing, f"README.md:{block.line}: :{', :'.join(sorted(missing))} used before it is set"
                used |= names
            defined |= set(re.findall(r"^\s*([A-Za-z_]\w*)\s*=(?!=)", line))
            defined |= set(re.findall(r"-o\s+([A-Za-z_]\w*)", line))
    assert {"since", "cause"} <= used
    assert "`:since` is a date and `:cause` a" in text
    assert "What `:cause` matches" in text and "label" in text[text.index("What `:cause` matches") :][:400]


# ------------------------------------------------------------------------- the troubleshooting table


def _troubleshooting_quotes() -> list[str]:
    """Every ``SomeError: message`` the Troubleshooting table quotes in its first column."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Troubleshooting") : text.index("## Python API")]
    quotes: list[str] = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first_column = line.split(" | ")[0]
            quotes += re.findall(r"`([A-Z][A-Za-z]+Error: [^`]*)`", first_column)
    return quotes


def _matches(quoted: str, real: str) -> bool:
    """The quote's fixed parts appear in the real message, in order (``…`` and ``N`` stand for anything)."""
    parts = [p.strip() for p in re.split(r"…|\bN\b", quoted) if p.strip()]
    pos = 0
    for part in parts:
        found = real.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def test_the_troubleshooting_table_quotes_real_messages(env_sandbox: Sandbox) -> None:
    from autotask_magic import AutotaskClient, AutotaskError, parse_where
    from autotask_magic.client._credentials import ApiUserCredentials, OAuthCredentials
    from autotask_magic.notebook._login import not_logged_in_error, plan_login

    sb = env_sandbox

    def message(fn: Any) -> str:
        try:
            fn()
        except AutotaskError as exc:
            return f"{type(exc).__name__}: {exc}"
        raise AssertionError("no error")

    def wrong_secret() -> None:
        creds = OAuthCredentials(sb.client_id, "wrong-secret")
        with AutotaskClient(creds, base_url=sb.base_url, token_url=sb.token_url) as client:
            client.count("Tickets")

    def unknown_user() -> None:
        creds = ApiUserCredentials("nobody@example.com", sb.integration_code, sb.secret)
        with AutotaskClient(creds, zone_url=sb.env("api_user")["AUTOTASK_ZONE_URL"]) as client:
            client.count("Tickets")

    def plain_http() -> None:
        env = {**sb.env("oauth"), "AUTOTASK_BASE_URL": "http://autotask.example.com/ATServicesRest/V1.0/"}
        AutotaskClient.from_env(env)

    def no_such_company() -> None:
        with AutotaskClient.from_env(sb.env("oauth")) as client:
            client.request("GET", "/Companies/99999999")

    def nobody_to_ask() -> None:
        plan_login(mode=None, overrides={}, environ={}, prompt_allowed=False, ask=input, ask_secret=input)

    real = {
        "AuthenticationError: token request rejected": message(wrong_secret),
        "AuthenticationError: unknown API user": message(unknown_user),
        "ConfigurationError: AUTOTASK_BASE_URL uses plain": message(plain_http),
        "ConfigurationError: not logged in: no Autotask credentials are set": message(nobody_to_ask),
        "ConfigurationError: not logged in — run %autotask_login": f"ConfigurationError: {not_logged_in_error()}",
        "ConfigurationError: no Autotask credentials in the environment": message(lambda: AutotaskClient.from_env({})),
        "QuerySyntaxError: unknown operator '=~' at column 8": message(lambda: parse_where("status =~ 5")),
        "NotFoundError: not found": message(no_such_company),
    }
    quotes = _troubleshooting_quotes()
    checked = 0
    for prefix, text in real.items():
        quoted = [q for q in quotes if q.startswith(prefix)]
        assert quoted, f"the Troubleshooting table has no row for {prefix!r}"
        assert _matches(quoted[0], text), f"README quotes {quoted[0]!r}\nthe extension says {text!r}"
        checked += 1
    assert checked == len(real)
