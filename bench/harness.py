"""Measure, compare and record: the parts every scenario shares.

The machine the benchmarks run on is small and noisy (two shared cores), so a single
timing means little. Every figure here is the median of repeated runs, and competitors are
run *interleaved* (one run of each, in a rotating order, then the next round) so a burst of
background load hits all of them rather than one. Every candidate runs once as a warm-up
before the measured rounds, on the very object that is then measured (its connections,
caches and compiled plans are warm). A ratio is *paired*: computed round by round from the
two figures' runs of the same round, then summarised as its median with the min-max range
of the rounds, so a reader sees how much it moves. Nothing is compared against numbers
remembered from another run.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = [
    "Figure",
    "Report",
    "ScenarioResult",
    "interleave",
    "machine_info",
    "median",
    "paired_ratios",
    "render_markdown",
    "scenario_markdown",
    "spread",
    "stopwatch",
]

Comparison = Literal[">=", "<="]


def median(values: list[float]) -> float:
    """The median: robust to the one run a neighbour's burst of CPU slowed down."""
    return float(statistics.median(values))


def stopwatch(
    action: Callable[[], object], clock: Callable[[], float] = time.perf_counter
) -> Callable[[], float]:
    """Wrap ``action`` so that calling the wrapper returns its time in seconds on ``clock``
    (wall time by default; ``time.process_time`` for CPU time)."""

    def timed() -> float:
        started = clock()
        action()
        return clock() - started

    return timed


def interleave(
    candidates: Mapping[str, Callable[[], Any]], repeat: int, *, warm_up: bool = True
) -> dict[str, list[Any]]:
    """Run each candidate ``repeat`` times, round-robin, rotating who goes first.

    Interleaving spreads background noise over every candidate, which is what makes a ratio
    taken from one invocation trustworthy on a shared machine. A full collection before each
    run keeps one candidate's garbage from being collected on another's clock. With
    ``warm_up`` every candidate first runs once, unmeasured.
    """
    labels = list(candidates)
    if warm_up:
        for label in labels:
            candidates[label]()
    # what exists now (every candidate's inputs) is never traversed by the collector
    # again, so one candidate's data does not slow another's collections
    gc.collect()
    gc.freeze()
    try:
        return _rounds(candidates, labels, repeat)
    finally:
        gc.unfreeze()


def _rounds(
    candidates: Mapping[str, Callable[[], Any]], labels: list[str], repeat: int
) -> dict[str, list[Any]]:
    measured: dict[str, list[Any]] = {label: [] for label in labels}
    for round_number in range(repeat):
        shift = round_number % len(labels) if labels else 0
        for label in labels[shift:] + labels[:shift]:
            gc.collect()
            measured[label].append(candidates[label]())
    return measured


@attrs.frozen
class Figure:
    """One measured quantity: its median, its unit and every run it came from."""

    median: float
    unit: str
    runs: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        return {"median": self.median, "unit": self.unit, "runs": list(self.runs)}


@attrs.define
class ScenarioResult:
    """What one scenario measured, compared and concluded; serialisable to JSON."""

    name: str
    title: str
    params: dict[str, Any] = attrs.field(factory=dict)
    figures: dict[str, Figure] = attrs.field(factory=dict)
    ratios: dict[str, float] = attrs.field(factory=dict)
    targets: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    skipped: dict[str, str] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    details: list[str] = attrs.field(factory=list)
    """Extra Markdown lines (e.g. an import-time table) shown under the scenario's tables."""
    ratio_inputs: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    """Which figures each ratio divides, so a reader (or a test) can recompute it."""
    ratio_runs: dict[str, tuple[float, ...]] = attrs.field(factory=dict)
    """Each ratio round by round (paired runs); its value is their median."""

    def add(self, label: str, runs: list[float], unit: str) -> Figure:
        """Record a figure from its runs; its value is their median."""
        figure = Figure(median(runs), unit, tuple(runs))
        self.figures[label] = figure
        return figure

    def skip(self, label: str, reason: str) -> None:
        """Record that a figure, ratio or target could not be produced, and why."""
        self.skipped[label] = reason

    def ratio(self, label: str, numerator: str, denominator: str) -> float | None:
        """``numerator / denominator``, paired round by round; the median of the rounds.

        Figures with a different number of runs (not measured in the same rounds) fall
        back to the ratio of their medians. A missing figure is a recorded skip.
        """
        self.ratio_inputs[label] = (numerator, denominator)
        missing = [name for name in (numerator, denominator) if name not in self.figures]
        if missing:
            self.skip(label, f"needs figure(s) {', '.join(repr(name) for name in missing)}")
            return None
        top, bottom = self.figures[numerator], self.figures[denominator]
        if min(bottom.runs, default=0) <= 0:
            self.skip(label, f"figure {denominator!r} is not positive")
            return None
        return self.set_ratio(label, paired_ratios(top.runs, bottom.runs))

    def set_ratio(self, label: str, rounds: tuple[float, ...]) -> float:
        """Record a ratio from its per-round values (for ratios not of two figures)."""
        value = median(list(rounds))
        self.ratios[label] = value
        self.ratio_runs[label] = rounds
        return value

    def target(self, label: str, ratio: str, comparison: Comparison, threshold: float) -> None:
        """Judge ratio ``ratio`` against ``threshold``; skipped when the ratio is missing."""
        wanted = f"{ratio} {comparison} {threshold:g}"
        if ratio not in self.ratios:
            self.skip(label, f"needs ratio {ratio!r}")
            return
        value = self.ratios[ratio]
        met = value >= threshold if comparison == ">=" else value <= threshold
        rounds = self.ratio_runs.get(ratio, (value,))
        self.targets[label] = {
            "target": wanted,
            "value": value,
            "min": min(rounds),
            "max": max(rounds),
            "met": met,
        }

    def check(self, label: str, wanted: str, met: bool) -> None:
        """A yes/no target that is not a ratio (e.g. "moto is not imported")."""
        self.targets[label] = {"target": wanted, "value": met, "met": met}

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "params": self.params,
            "figures": {label: figure.to_json() for label, figure in self.figures.items()},
            "ratios": self.ratios,
            "ratio_runs": {label: list(rounds) for label, rounds in self.ratio_runs.items()},
            "targets": self.targets,
            "skipped": self.skipped,
            "notes": self.notes,
        }


def paired_ratios(top: tuple[float, ...], bottom: tuple[float, ...]) -> tuple[float, ...]:
    """Round-by-round ratios of two figures measured in the same rounds."""
    if len(top) == len(bottom):
        return tuple(a / b for a, b in zip(top, bottom, strict=True))
    return (median(list(top)) / median(list(bottom)),)


def spread(rounds: tuple[float, ...]) -> str:
    """``min-max`` of a ratio's rounds, for tables."""
    return f"{min(rounds):.2f}-{max(rounds):.2f}"


def machine_info() -> dict[str, Any]:
    """Enough about the machine to tell whether two result files are comparable."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "machine": platform.machine(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


@attrs.define
class Report:
    """Every scenario of one invocation, with the machine they ran on."""

    machine: dict[str, Any]
    scenarios: dict[str, ScenarioResult] = attrs.field(factory=dict)
    preset: str = "full"

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "preset": self.preset,
            "scenarios": {name: result.to_json() for name, result in self.scenarios.items()},
        }

    def write(self, directory: Path, stem: str = "latest") -> tuple[Path, Path]:
        """Write ``<stem>.json`` and ``<stem>.md`` into ``directory``; return their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
        json_path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")
        md_path.write_text(render_markdown(self))
        return json_path, md_path


def _number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if magnitude < 1 else f"{value:.2f}"


def scenario_markdown(result: ScenarioResult) -> list[str]:
    """One scenario's section: its heading line, a blank line, then everything else."""
    lines = [f"## {result.name}: {result.title}", ""]
    if result.params:
        shown = ", ".join(f"{key}={value}" for key, value in result.params.items())
        lines += [f"Parameters: {shown}", ""]
    if result.figures:
        lines += ["| figure | median | unit | runs |", "|---|---:|---|---|"]
        for label, figure in result.figures.items():
            runs = ", ".join(_number(run) for run in figure.runs)
            lines.append(f"| {label} | {_number(figure.median)} | {figure.unit} | {runs} |")
        lines.append("")
    if result.ratios:
        lines += ["| ratio | median | min-max | per round |", "|---|---:|---|---|"]
        for label, value in result.ratios.items():
            rounds = result.ratio_runs.get(label, (value,))
            each = ", ".join(f"{one:.2f}" for one in rounds)
            lines.append(f"| {label} | {value:.2f}x | {spread(rounds)} | {each} |")
        lines.append("")
    if result.targets:
        lines += ["| target | wanted | measured (min-max) | met |", "|---|---|---:|---|"]
        for label, target in result.targets.items():
            value = target["value"]
            shown = str(value)
            if isinstance(value, float):
                shown = f"{value:.2f}x ({target['min']:.2f}-{target['max']:.2f})"
            verdict = "met" if target["met"] else "**not met**"
            lines.append(f"| {label} | {target['target']} | {shown} | {verdict} |")
        lines.append("")
    for label, reason in result.skipped.items():
        lines.append(f"- not measured: {label}: {reason}")
    lines += [f"- {note}" for note in result.notes]
    if result.skipped or result.notes:
        lines.append("")
    if result.details:
        lines += [*result.details, ""]
    return lines


def _load(machine: dict[str, Any]) -> str:
    """The load average when the run started: how busy the shared machine was."""
    load = machine.get("load_average")
    return f" (load average {load[0]:.1f} at the start)" if load else ""


def render_markdown(report: Report) -> str:
    """One section per scenario: figures, ratios, targets (met / not met), skips, notes."""
    machine = report.machine
    lines = [
        "# Benchmark results",
        "",
        f"Python {machine.get('python')} on {machine.get('platform')}, "
        f"{machine.get('cpu_count')} CPUs"
        + ("" if report.preset == "full" else f" ({report.preset} run: reduced sizes)")
        + _load(machine)
        + ". Every figure is the median of the runs listed (each after a warm-up run); every "
        "ratio is paired round by round within this invocation and shown as its median, "
        "min-max and per-round values.",
        "",
    ]
    for result in report.scenarios.values():
        lines += scenario_markdown(result)
    return "\n".join(lines).rstrip() + "\n"
