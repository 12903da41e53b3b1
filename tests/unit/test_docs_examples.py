"""Every ``python`` block of the user guides runs, so the guides cannot drift from the code.

The blocks of one page run in order in one namespace, like a doctest session: later
blocks use the tables, entities and services earlier ones defined. A block whose first
line starts with ``# not run`` is shown to readers but skipped here; it is reserved for snippets
that need AWS itself. Examples use the embedded backend, so no network is involved.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest

from tctf_dynamo import Table

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = ("modelling.md", "repositories.md", "expressions.md", "resilience.md")
SKIP_MARKER = "# not run"
AWS_ONLY = re.compile(r"boto3|from_client|from_endpoint")
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, source)`` of every fenced ``python`` block, in page order."""
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(1)) for match in FENCE.finditer(text)
    ]


def runnable(blocks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(line, source) for line, source in blocks if not _skipped(source)]


def _skipped(source: str) -> bool:
    lines = source.lstrip("\n").splitlines()
    return bool(lines) and lines[0].strip().startswith(SKIP_MARKER)


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


@functools.cache
def run_page(name: str) -> dict[str, Any]:
    """The namespace a guide's blocks leave behind (run once per test session)."""
    return run_blocks(DOCS / name)


def tables_of(namespace: dict[str, Any]) -> set[str]:
    return {value.name for value in namespace.values() if isinstance(value, Table)}


# ---------------------------------------------------------------- the extractor itself


def test_blocks_are_found_with_their_line_numbers() -> None:
    text = "intro\n```python\na = 1\n```\ntext\n```console\n$ x\n```\n```python\nb = a\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = a\n")]


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


# ---------------------------------------------------------------- the guides


@pytest.mark.parametrize("name", GUIDES)
def test_guide_has_runnable_examples(name: str) -> None:
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert len(blocks) == text.count("```python"), f"{name} has a python fence not at line start"
    assert len(runnable(blocks)) >= 3, f"{name} should show working code"


@pytest.mark.parametrize("name", GUIDES)
def test_only_aws_snippets_are_skipped(name: str) -> None:
    blocks = python_blocks((DOCS / name).read_text(encoding="utf-8"))
    for line, source in blocks:
        if _skipped(source):
            assert AWS_ONLY.search(source), f"{name}:{line} is skipped but needs no AWS"


@pytest.mark.parametrize("name", GUIDES)
def test_guide_examples_run(name: str) -> None:
    namespace = run_page(name)
    assert tables_of(namespace), f"{name} defines no Table of its own"


def test_each_guide_uses_its_own_table() -> None:
    seen: dict[str, str] = {}
    for name in GUIDES:
        for table in tables_of(run_page(name)):
            assert table not in seen, f"{name} reuses table {table!r} of {seen.get(table)}"
            seen[table] = name


def test_index_links_every_guide() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    expected = (*GUIDES, "errors.md", "pagination.md", "unit-of-work.md", "batches.md")
    for name in (*expected, "testing.md"):
        assert f"({name})" in index, f"index.md does not link {name}"
    for name in expected:
        assert (DOCS / name).exists(), f"index.md links {name}, which is missing"
