"""Entry point: ``python -m bench.run [--quick] [--only NAME ...] [--output STEM] [--merge]``.

Runs the scenarios in order and writes ``bench/results/<STEM>.json`` and ``<STEM>.md``
(``latest`` for a full set, the scenario's name when ``--only`` picks one). With
``--merge`` the scenarios run replace their own sections in ``latest`` (or ``STEM``),
every other section kept (:mod:`bench.merge`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bench.harness import Report, ScenarioResult, machine_info
from bench.merge import merge_into

SCENARIOS = ("codec", "e2e", "batch", "aio_batch", "coldstart", "memory", "tracing")
RESULTS_DIRECTORY = Path(__file__).resolve().parent / "results"


def scenario_module(name: str) -> ModuleType:
    """The module of scenario ``name`` (each exposes NAME, TITLE, PRESETS and run)."""
    return importlib.import_module(f"bench.{name}")


def run_scenario(name: str, preset: str) -> ScenarioResult:
    """Run one scenario with one of its presets; a crash becomes a note, not a lost run."""
    module = scenario_module(name)
    try:
        result: ScenarioResult = module.run(**module.PRESETS[preset])
    except Exception as error:
        result = ScenarioResult(name, module.TITLE, params=dict(module.PRESETS[preset]))
        result.skip("scenario", f"failed: {type(error).__name__}: {error}")
        traceback.print_exc()
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes and repeats")
    parser.add_argument(
        "--preset", choices=("full", "quick", "smoke"), help=argparse.SUPPRESS
    )  # smoke: tiny sizes, one run; for the test suite
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, metavar="NAME", help="repeatable"
    )
    parser.add_argument("--output", metavar="STEM", help="results file stem")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace these scenarios' sections in the results file, keeping the others",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS_DIRECTORY, help=argparse.SUPPRESS
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    names = arguments.only or list(SCENARIOS)
    preset = arguments.preset or ("quick" if arguments.quick else "full")
    report = Report(machine_info(), preset=preset)
    for name in names:
        started = time.perf_counter()
        print(f"[bench] {name} ({preset}) ...", file=sys.stderr, flush=True)
        report.scenarios[name] = run_scenario(name, preset)
        print(f"[bench] {name} done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    if arguments.merge:
        stem = arguments.output or "latest"
        json_path, md_path = merge_into(report, arguments.results_dir, SCENARIOS, stem)
    else:
        stem = arguments.output or ("latest" if arguments.only is None else "-".join(names))
        json_path, md_path = report.write(arguments.results_dir, stem)
    print(md_path.read_text())
    print(f"[bench] wrote {json_path} and {md_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
