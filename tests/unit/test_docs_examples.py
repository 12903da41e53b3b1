"""Every ``python`` block under ``docs/`` runs, so the pages cannot drift from the code.

The blocks of one page run in order in one namespace, like a doctest session: later
blocks use the tables, entities and services earlier ones defined. Two markers, on a
block's first line, change that (``docs/index.md`` tells readers the same):

* ``# not run: REASON`` -- shown to readers, not run here; the reason is required and
  says what the block needs that a test run lacks (AWS credentials, a deployment's
  environment).
* ``# NAME.py`` -- the block is a file of a small project (a module and the tests of it,
  as on the testing page). A page made of such blocks is written to a temporary folder
  and its ``test_*.py`` files are run with pytest, as a user would run them.

Examples use the embedded backend, so no network is involved.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tctf_dynamo import Table

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = tuple(sorted(path.name for path in DOCS.glob("*.md")))
GUIDES = ("modelling.md", "repositories.md", "expressions.md", "resilience.md")
SKIP_MARKER = "# not run"
SKIP_WITH_REASON = re.compile(r"^# not run: \S.{8,}$")
FILE_MARKER = re.compile(r"^# ([A-Za-z_][\w]*\.py)$")
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, source)`` of every fenced ``python`` block, in page order."""
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(1)) for match in FENCE.finditer(text)
    ]


def runnable(blocks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(line, source) for line, source in blocks if not _skipped(source)]


def _first_line(source: str) -> str:
    lines = source.lstrip("\n").splitlines()
    return lines[0].strip() if lines else ""


def _skipped(source: str) -> bool:
    return _first_line(source).startswith(SKIP_MARKER)


def file_name(source: str) -> str | None:
    """The file a ``# NAME.py`` block stands for, or None for an ordinary block."""
    match = FILE_MARKER.match(_first_line(source))
    return match.group(1) if match else None


def run_blocks(path: Path) -> dict[str, Any]:
    """Run a page's blocks in one namespace; a failure names the page and the Markdown
    line of the failing statement."""
    namespace: dict[str, Any] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    for line, source in runnable(python_blocks(path.read_text(encoding="utf-8"))):
        # pad so tracebacks point at the line in the Markdown file; dont_inherit keeps this
        # module's ``from __future__`` imports out, so blocks run like a user's script
        code = compile("\n" * (line - 1) + source, str(path), "exec", dont_inherit=True)
        exec(code, namespace)
    return namespace


def run_project(path: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Write a page's ``# NAME.py`` blocks into ``folder`` and run pytest there."""
    for _, source in runnable(python_blocks(path.read_text(encoding="utf-8"))):
        name = file_name(source)
        assert name is not None, f"{path.name}: a page of files has a block without a name"
        target = folder / name
        previous = target.read_text(encoding="utf-8") if target.exists() else ""
        target.write_text(previous + source, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def is_project(name: str) -> bool:
    blocks = runnable(python_blocks((DOCS / name).read_text(encoding="utf-8")))
    return any(file_name(source) for _, source in blocks)


@functools.cache
def run_page(name: str) -> dict[str, Any]:
    """The namespace a page's blocks leave behind (run once per test session)."""
    return run_blocks(DOCS / name)


def tables_of(namespace: dict[str, Any]) -> set[str]:
    return {value.name for value in namespace.values() if isinstance(value, Table)}


# ---------------------------------------------------------------- the extractor itself


def test_blocks_are_found_with_their_line_numbers() -> None:
    text = "intro\n```python\na = 1\n```\ntext\n```console\n$ x\n```\n```python\nb = a\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = a\n")]


def test_a_file_marker_names_the_block() -> None:
    assert file_name("# shop.py\nx = 1\n") == "shop.py"
    assert file_name("x = 1  # shop.py\n") is None
    assert file_name("# the shop.py module\n") is None


def test_only_a_first_line_marker_skips_a_block() -> None:
    blocks = [(1, "# not run\nimport boto3\n"), (5, "x = 1  # not run\n"), (9, "\n# not run\n")]
    assert runnable(blocks) == [(5, "x = 1  # not run\n")]


def test_blocks_share_one_namespace_and_skipped_blocks_do_not_run(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\n```python\n# not run\nx = 99\n```\n\n```python\ny = x + 1\n```\n",
        encoding="utf-8",
    )
    namespace = run_blocks(page)
    assert (namespace["x"], namespace["y"]) == (1, 2)


def test_a_failing_block_reports_the_markdown_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nx = 1\nassert x == 2\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError) as caught:
        run_blocks(page)
    entry = caught.traceback[-1]
    assert (str(entry.path), entry.lineno + 1) == (str(page), 5)


# ---------------------------------------------------------------- the pages


def test_every_page_is_checked() -> None:
    assert set(GUIDES) <= set(PAGES)
    assert {"batches.md", "unit-of-work.md", "streams.md", "testing.md"} <= set(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_every_python_fence_is_found(name: str) -> None:
    text = (DOCS / name).read_text(encoding="utf-8")
    assert len(python_blocks(text)) == text.count("```python"), (
        f"{name} has a python fence not at line start"
    )


@pytest.mark.parametrize("name", GUIDES)
def test_guide_has_runnable_examples(name: str) -> None:
    blocks = python_blocks((DOCS / name).read_text(encoding="utf-8"))
    assert len(runnable(blocks)) >= 3, f"{name} should show working code"


@pytest.mark.parametrize("name", PAGES)
def test_skipped_blocks_say_why(name: str) -> None:
    for line, source in python_blocks((DOCS / name).read_text(encoding="utf-8")):
        if _skipped(source):
            assert SKIP_WITH_REASON.match(_first_line(source)), (
                f"{name}:{line} is skipped without a reason ('# not run: needs ...')"
            )


@pytest.mark.parametrize("name", [name for name in PAGES if not is_project(name)])
def test_page_examples_run(name: str) -> None:
    namespace = run_page(name)
    if name in GUIDES:
        assert tables_of(namespace), f"{name} defines no Table of its own"


@pytest.mark.parametrize("name", [name for name in PAGES if is_project(name)])
def test_page_projects_pass_their_own_tests(name: str, tmp_path: Path) -> None:
    result = run_project(DOCS / name, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_a_project_page_runs_its_tests_and_reports_failures(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\n# mod.py\nX = 1\n```\n\n"
        "```python\n# test_mod.py\nfrom mod import X\n\n\ndef test_x():\n    assert X == 2\n```\n",
        encoding="utf-8",
    )
    folder = tmp_path / "project"
    folder.mkdir()
    result = run_project(page, folder)
    assert result.returncode == 1 and "1 failed" in result.stdout


def test_each_page_uses_its_own_table() -> None:
    seen: dict[str, str] = {}
    for name in PAGES:
        if is_project(name):
            continue
        for table in tables_of(run_page(name)):
            assert table not in seen, f"{name} reuses table {table!r} of {seen.get(table)}"
            seen[table] = name


def test_index_links_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name in PAGES:
        if name != "index.md":
            assert f"({name})" in index, f"index.md does not link {name}"
