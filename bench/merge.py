"""Put the scenarios of one invocation into the committed result files, keeping the rest.

A full run takes long on a small machine; re-measuring one scenario should not mean
re-measuring all of them, nor leaving its figures out of ``latest``. :func:`merge_into`
replaces (or adds) each scenario's section in ``<stem>.json`` and ``<stem>.md`` and leaves
every other section as it was, byte for byte in the Markdown (so tables that exist only
there, such as the import-time tables, survive). A merged section says that it was
measured separately, with which preset and at what load, because the file's header
describes the run that wrote the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import Report, scenario_markdown

__all__ = ["merge_into"]


def merge_into(
    report: Report, directory: Path, order: Sequence[str], stem: str = "latest"
) -> tuple[Path, Path]:
    """Merge ``report``'s scenarios into ``directory/<stem>.json|md`` (made from ``report``
    alone when they do not exist); sections follow ``order``. Returns both paths."""
    json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
    if not json_path.exists() or not md_path.exists():
        return report.write(directory, stem)
    data: dict[str, Any] = json.loads(json_path.read_text())
    text = md_path.read_text()
    provenance = _provenance(report)
    for name, result in report.scenarios.items():
        scenario = result.to_json()
        scenario["measured_separately"] = {"preset": report.preset, "machine": report.machine}
        data["scenarios"] = _placed(data.get("scenarios", {}), name, scenario, order)
        lines = scenario_markdown(result)
        section = "\n".join([*lines[:2], provenance, "", *lines[2:]]).rstrip() + "\n"
        text = _with_section(text, name, section, order)
    json_path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    md_path.write_text(text)
    return json_path, md_path


def _provenance(report: Report) -> str:
    load = report.machine.get("load_average")
    at_load = f", load average {load[0]:.1f} at its start" if load else ""
    return f"Measured in a separate invocation ({report.preset} preset{at_load})."


def _placed(
    scenarios: dict[str, Any], name: str, scenario: dict[str, Any], order: Sequence[str]
) -> dict[str, Any]:
    merged = {**scenarios, name: scenario}
    rank = {known: index for index, known in enumerate(order)}
    return dict(sorted(merged.items(), key=lambda item: rank.get(item[0], len(rank))))


def _with_section(text: str, name: str, section: str, order: Sequence[str]) -> str:
    """``text`` with the ``## <name>:`` section replaced by ``section`` (or inserted before
    the first later scenario in ``order``, else at the end)."""
    starts = _section_starts(text)
    if name in starts:
        start = starts[name]
        later = [index for index in starts.values() if index > start]
        end = min(later, default=len(text))
        return text[:start] + section + ("\n" if end < len(text) else "") + text[end:]
    following = order[order.index(name) + 1 :] if name in order else []
    for later_name in following:
        if later_name in starts:
            start = starts[later_name]
            return text[:start] + section + "\n" + text[start:]
    return text.rstrip() + "\n\n" + section


def _section_starts(text: str) -> dict[str, int]:
    starts = {}
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("## ") and ":" in line:
            starts[line[3:].split(":", 1)[0].strip()] = offset
        offset += len(line)
    return starts
