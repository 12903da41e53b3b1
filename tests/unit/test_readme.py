"""The README's example runs as written."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows a Python example"
    script = tmp_path / "readme_example.py"
    script.write_text("\n".join(blocks))
    namespace = runpy.run_path(str(script), run_name="readme_example")
    assert "service" in namespace


def test_readme_states_the_two_commands() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text
