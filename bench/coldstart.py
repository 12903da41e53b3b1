"""Scenario ``coldstart``: how long a fresh process takes to be ready, ours vs bare boto3.

Serverless functions pay for start-up on every cold start. Each candidate is a whole new
interpreter (``python -I``, run ``repeat`` times after one warm-up, interleaved; each run's
CPU time, user + system, so that waiting for a core on a shared machine is not counted):

* ours: ``import tctf_dynamo``, a boto3-backed service from ``from_endpoint`` (a dummy
  endpoint; nothing is sent) and 20 entity classes defined on one table;
* boto3: ``import boto3`` and ``boto3.client("dynamodb", ...)`` alone;
* boto3 + pydantic: the same, plus ``from pydantic import BaseModel``;
* boto3 + pydantic models: that, plus the same 20 classes as plain pydantic models: what
  any library whose entities are pydantic models pays before its own first line;
* the bare interpreter (``pass``), to show what none can avoid.

Our own share is ours minus "boto3 + pydantic models".

Every run of ours also reports whether moto or cryptography got imported (neither may be:
they belong to the embedded backend and to cursors, both loaded on first use only). One
extra run under ``-X importtime`` lists the modules that cost ours the most.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import ScenarioResult, interleave, median

NAME = "coldstart"
TITLE = "cold start of a process: import, service, 20 entities vs boto3 client"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"repeat": 7, "entities": 20},
    "quick": {"repeat": 5, "entities": 20},
    "smoke": {"repeat": 1, "entities": 2},
}
FORBIDDEN = ("moto", "cryptography")
TOP_OFFENDERS = 15

OURS = "ours: import + service + entities"
BOTO3 = "boto3: import + client"
BOTO3_PYDANTIC = "boto3 + pydantic: import + client + BaseModel"
PYDANTIC_MODELS = "boto3 + pydantic models: import + client + 20 plain models"
BARE = "python: bare interpreter"

_ENTITY_TEMPLATE = """
class Entity{n}(Entity, table=table, pk="ACCOUNT#{{account_id}}", sk="KIND{n}#{{item_id}}"):
    account_id: str
    item_id: str
    amount: Decimal
    count: int = 0
    active: bool = True
    created_at: datetime
    tags: list[str] = []
    note: str | None = None
"""

_OURS_SCRIPT = """
import json, sys, time
from datetime import datetime
from decimal import Decimal
started = time.process_time()
import tctf_dynamo
from tctf_dynamo import DynamoDBService, Entity, Table
imported = time.process_time()
service = DynamoDBService.from_endpoint(
    "http://127.0.0.1:9", region_name="us-east-1",
    aws_access_key_id="bench", aws_secret_access_key="bench",
)
built = time.process_time()
table = Table("coldstart")
{entities}
defined = time.process_time()
loaded = {{name: any(m == name or m.startswith(name + ".") for m in sys.modules)
          for name in {forbidden!r}}}
phases = {{"import": imported - started, "service": built - imported,
           "entities": defined - built}}
print(json.dumps({{"loaded": loaded, "phases": phases}}))
"""

_BOTO3_SCRIPT = """
import boto3
boto3.client(
    "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
    aws_access_key_id="bench", aws_secret_access_key="bench",
)
"""

_PYDANTIC_IMPORT = """
from datetime import datetime
from decimal import Decimal
from pydantic import BaseModel
"""

_MODEL_TEMPLATE = """
class Model{n}(BaseModel):
    account_id: str
    item_id: str
    amount: Decimal
    count: int = 0
    active: bool = True
    created_at: datetime
    tags: list[str] = []
    note: str | None = None
"""


def pydantic_script(models: int) -> str:
    """boto3 and its client, pydantic, and ``models`` plain models like ours' entities."""
    classes = "".join(_MODEL_TEMPLATE.format(n=n) for n in range(models))
    return _BOTO3_SCRIPT + _PYDANTIC_IMPORT + classes


def ours_script(entities: int) -> str:
    """The source of the process measured for ours."""
    classes = "".join(_ENTITY_TEMPLATE.format(n=n) for n in range(entities))
    return _OURS_SCRIPT.format(entities=classes, forbidden=FORBIDDEN)


def _run(script: Path, *options: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-I", *options, str(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{script.name} failed: {completed.stderr.strip()[-500:]}")
    return completed


class _Process:
    """A script file run as a fresh interpreter; remembers what each run printed."""

    def __init__(self, directory: Path, name: str, source: str) -> None:
        self.script = directory / f"{name}.py"
        self.script.write_text(source)
        self.outputs: list[str] = []

    def __call__(self) -> float:
        """The CPU time (user + system) the process used, in ms: on a shared machine its
        wall time also counts the time it waited for a core, which is not its own."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = _run(self.script)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.outputs.append(completed.stdout)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return used * 1000


ImportRow = tuple[str, int, int, int]
"""(module, self us, cumulative us, nesting depth: 0 for the script's own imports)."""


def import_times(script: Path) -> list[ImportRow]:
    """Every import of one run of ``script`` under ``-X importtime``."""
    rows = []
    for line in _run(script, "-X", "importtime").stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, module = line.removeprefix("import time:").split("|", 2)
        depth = (len(module) - len(module.lstrip()) - 1) // 2  # two spaces per level
        rows.append((module.strip(), int(own), int(cumulative), depth))
    return rows


def _import_table(title: str, rows: list[ImportRow]) -> list[str]:
    lines = [title, "", "| module | self ms | cumulative ms |", "|---|---:|---:|"]
    lines += [f"| {name} | {own / 1000:.1f} | {total / 1000:.1f} |" for name, own, total, _ in rows]
    return [*lines, ""]


def _package_table(title: str, totals: list[tuple[str, int]]) -> list[str]:
    lines = [title, "", "| package | self ms |", "|---|---:|"]
    lines += [f"| {package} | {own / 1000:.1f} |" for package, own in totals]
    return [*lines, ""]


def _pulled_in_by(rows: list[ImportRow], module: str) -> list[ImportRow]:
    """Direct imports of a top-level ``module``: importtime prints children before parents."""
    children: list[ImportRow] = []
    for row in rows:
        if row[3] == 1:
            children.append(row)
        elif row[3] == 0:
            if row[0] == module:
                return children
            children = []
    return []


def _by_package(rows: list[ImportRow]) -> list[tuple[str, int]]:
    """Own time summed per top-level package (pydantic, botocore, tctf_dynamo, ...)."""
    totals: dict[str, int] = {}
    for name, own, _, _ in rows:
        package = name.split(".", 1)[0]
        totals[package] = totals.get(package, 0) + own
    return sorted(totals.items(), key=lambda pair: pair[1], reverse=True)


def _offenders_markdown(rows: list[ImportRow]) -> list[str]:
    pulled_in = sorted(_pulled_in_by(rows, "tctf_dynamo"), key=lambda row: row[2], reverse=True)
    by_self = sorted(rows, key=lambda row: row[1], reverse=True)
    return [
        "Import costs of ours' process (`python -X importtime`, one run):",
        "",
        *_import_table("What `import tctf_dynamo` imports directly:", pulled_in[:TOP_OFFENDERS]),
        *_package_table("Own time per top-level package:", _by_package(rows)[:10]),
        *_import_table("Slowest single modules, by own time:", by_self[:TOP_OFFENDERS]),
    ]


def _record_ours_run(result: ScenarioResult, outputs: list[str]) -> None:
    """Phase timings reported from inside ours' process, and the forbidden-import checks."""
    reports = [json.loads(output) for output in outputs]
    for phase in ("import", "service", "entities"):
        runs = [report["phases"][phase] * 1000 for report in reports]
        result.add(f"ours phase: {phase}", runs, "CPU ms")
    for name in FORBIDDEN:
        imported = any(report["loaded"][name] for report in reports)
        result.check(f"{name} not imported", f"{name} absent from sys.modules", not imported)


def run(*, repeat: int, entities: int) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE, params={"repeat": repeat, "entities": entities})
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as directory:
        folder = Path(directory)
        ours = _Process(folder, "ours", ours_script(entities))
        processes = {
            OURS: ours,
            BOTO3: _Process(folder, "boto3_client", _BOTO3_SCRIPT),
            BOTO3_PYDANTIC: _Process(folder, "boto3_pydantic", pydantic_script(0)),
            PYDANTIC_MODELS: _Process(folder, "pydantic_models", pydantic_script(entities)),
            BARE: _Process(folder, "bare", "pass\n"),
        }
        try:
            ours()
        except RuntimeError as error:
            result.skip(OURS, str(error))
            del processes[OURS]
        for label, runs in interleave(processes, repeat).items():
            result.add(label, runs, "CPU ms")
        if OURS in processes:
            # the first run checked it works, the second was interleave's warm-up
            _record_ours_run(result, ours.outputs[2:])
            result.details += _offenders_markdown(import_times(ours.script))
    result.ratio("ours / boto3 (whole process)", OURS, BOTO3)
    result.ratio("ours / boto3 + pydantic", OURS, BOTO3_PYDANTIC)
    result.ratio("ours / boto3 + pydantic models", OURS, PYDANTIC_MODELS)
    result.ratio("boto3 + pydantic models / boto3 (no library at all)", PYDANTIC_MODELS, BOTO3)
    _net_ratio(result)
    result.target("cold start vs boto3 client", "ours / boto3 (whole process)", "<=", 1.25)
    _our_share(result)
    return result


def _our_share(result: ScenarioResult) -> None:
    """What is left of ours once boto3, pydantic and the models themselves are paid."""
    if OURS in result.figures and PYDANTIC_MODELS in result.figures:
        ours_runs, floor_runs = result.figures[OURS].runs, result.figures[PYDANTIC_MODELS].runs
        rounds = [a - b for a, b in zip(ours_runs, floor_runs, strict=True)]
        boto3 = result.figures[BOTO3].median if BOTO3 in result.figures else 0.0
        pydantic_part = result.figures[PYDANTIC_MODELS].median - boto3
        result.notes.append(
            f"ours' own share (ours minus boto3 + pydantic models, paired by round): "
            f"{median(rounds):.0f} ms (per round: {', '.join(f'{r:.0f}' for r in rounds)}); "
            f"pydantic's import and 20 plain models cost {pydantic_part:.0f} ms over boto3 "
            "alone: entities are pydantic models by design, so that part cannot move"
        )


def _net_ratio(result: ScenarioResult) -> None:
    """Same comparison with the bare interpreter's start-up taken off both sides."""
    if not all(label in result.figures for label in (OURS, BOTO3, BARE)):
        return
    bare = result.figures[BARE].median
    ours_net, boto3_net = result.figures[OURS].median - bare, result.figures[BOTO3].median - bare
    if boto3_net > 0:
        result.ratios["ours / boto3 (interpreter start-up excluded)"] = ours_net / boto3_net


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
