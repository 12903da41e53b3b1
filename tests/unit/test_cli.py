"""The tctf-dynamo command, run in-process against the embedded backend."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Table
from tctf_dynamo.cli import ProgressBar, main

ROOT = Path(__file__).resolve().parents[2]
TABLE = "cli-things"


@pytest.fixture
def service() -> DynamoDBService:
    built = DynamoDBService.embedded()
    built.create_table(Table(TABLE))
    return built


def run(
    argv: list[str], service: DynamoDBService | None = None, stdin: str = ""
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, service=service, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def stored(service: DynamoDBService) -> list[dict[str, Any]]:
    return sorted(service.scan(TABLE).items, key=lambda item: (item["PK"], item["SK"]))


def write_lines(path: Path, values: list[Any]) -> Path:
    path.write_text("".join(json.dumps(value) + "\n" for value in values), encoding="utf-8")
    return path


def test_version() -> None:
    assert run(["version"]) == (0, "tctf-dynamo 0.1.0\n", "")


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tctf_dynamo", "version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "tctf-dynamo 0.1.0\n")


def test_create_table_imports_the_module_and_creates_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_schema.py").write_text(
        "from tctf_dynamo import Table, GSI\n"
        "platform = Table('cli-platform', indexes=[GSI('GSI1')])\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    service = DynamoDBService.embedded()
    code, out, _ = run(["create-table", "my_schema:platform", "--embedded"], service)
    assert code == 0
    assert out.startswith("table cli-platform is ACTIVE")
    description = service.describe_table("cli-platform")
    assert [index["IndexName"] for index in description["GlobalSecondaryIndexes"]] == ["GSI1"]


@pytest.mark.parametrize("spec", ["no_colon", "json:dumps", "not_a_module_anywhere:table"])
def test_create_table_refuses_what_is_not_a_table(spec: str) -> None:
    code, _, err = run(["create-table", spec], DynamoDBService.embedded())
    assert code == 1
    assert "INVALID_CONFIGURATION" in err


def test_load_writes_plain_json_lines_with_a_progress_bar(
    service: DynamoDBService, tmp_path: Path
) -> None:
    values = [{"PK": f"p{i:03d}", "SK": "A", "price": i / 4, "tags": ["x"]} for i in range(300)]
    path = write_lines(tmp_path / "items.jsonl", values)
    code, out, err = run(["load", str(path), "--table", TABLE, "--workers", "3"], service)
    assert code == 0, err
    assert out == f"loaded 300 items into {TABLE}\n"
    assert "\rload [" in err and "300/300 100%" in err and err.endswith("\n")
    items = stored(service)
    assert len(items) == 300
    assert items[5] == {"PK": "p005", "SK": "A", "price": Decimal("1.25"), "tags": ["x"]}


def test_load_reads_standard_input_without_a_bar(service: DynamoDBService) -> None:
    lines = '{"PK": "a", "SK": "A"}\n\n{"PK": "b", "SK": "A"}\n'
    code, _, err = run(["load", "-", "--table", TABLE, "--no-progress"], service, stdin=lines)
    assert code == 0
    assert err == ""
    assert [item["PK"] for item in stored(service)] == ["a", "b"]


@pytest.mark.parametrize(
    "bad_line, code_name",
    [
        ("{not json", "INVALID_ITEM"),
        ("[1, 2]", "INVALID_ITEM"),
        ('{"PK": "x"}', "INVALID_KEY"),
    ],
)
def test_load_sends_nothing_when_any_line_is_bad(
    service: DynamoDBService, tmp_path: Path, bad_line: str, code_name: str
) -> None:
    good = "".join(json.dumps({"PK": f"p{i}", "SK": "A"}) + "\n" for i in range(50))
    path = tmp_path / "items.jsonl"
    path.write_text(good + bad_line + "\n", encoding="utf-8")
    code, _, err = run(["load", str(path), "--table", TABLE], service)
    assert code == 1
    assert code_name in err
    assert stored(service) == []


def test_dynamodb_json_round_trips_through_load_and_export(
    service: DynamoDBService, tmp_path: Path
) -> None:
    typed = [
        {"Item": {"PK": {"S": "a"}, "SK": {"S": "A"}, "blob": {"B": "AAEC"}, "n": {"N": "1.5"}}},
        {"PK": {"S": "b"}, "SK": {"S": "A"}, "m": {"M": {"bs": {"BS": ["/w=="]}}}},
    ]
    path = write_lines(tmp_path / "typed.jsonl", typed)
    assert run(["load", str(path), "--table", TABLE, "--dynamodb-json"], service)[0] == 0
    output = tmp_path / "out.jsonl"
    code, _, err = run(
        ["export", "--table", TABLE, "--dynamodb-json", "--output", str(output)], service
    )
    assert code == 0
    assert err == f"exported 2 items from {TABLE}\n"
    exported = sorted(
        (json.loads(line) for line in output.read_text().splitlines()), key=lambda i: i["PK"]["S"]
    )
    assert exported[0] == {
        "PK": {"S": "a"},
        "SK": {"S": "A"},
        "blob": {"B": "AAEC"},
        "n": {"N": "1.5"},
    }
    assert exported[1] == typed[1]


def test_export_writes_plain_json_to_standard_output(service: DynamoDBService) -> None:
    service.put_item(TABLE, {"PK": "a", "SK": "A", "n": 3, "x": Decimal("0.1"), "s": {"b", "a"}})
    service.put_item(TABLE, {"PK": "b", "SK": "A", "big": Decimal("1.00000000000000000001")})
    code, out, _ = run(["export", "--table", TABLE], service)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    assert {"PK": "a", "SK": "A", "n": 3, "x": 0.1, "s": ["a", "b"]} in lines
    assert {"PK": "b", "SK": "A", "big": "1.00000000000000000001"} in lines


def test_export_of_a_missing_table_reports_the_code() -> None:
    code, _, err = run(["export", "--table", "nothing-here"], DynamoDBService.embedded())
    assert code == 1
    assert "TABLE_NOT_FOUND" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["load", "x.jsonl", "--table", TABLE, "--workers", "0"],
        ["export", "--table", TABLE, "--endpoint", "http://x", "--embedded"],
        ["load", "x.jsonl"],
        [],
    ],
)
def test_bad_usage_exits_with_status_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv, stderr=io.StringIO())
    assert caught.value.code == 2


def test_progress_bar_redraws_only_when_the_percentage_changes() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, "load", width=10)
    for done in (0, 1, 2, 500, 1000):
        bar(done, 1000)
    bar.close()
    frames = stream.getvalue().split("\r")[1:]
    assert frames == [
        "load [..........] 0/1000   0%",
        "load [#####.....] 500/1000  50%",
        "load [##########] 1000/1000 100%\n",
    ]


def test_load_streams_a_file_in_chunks_and_still_checks_every_line_first(
    service: DynamoDBService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tctf_dynamo import cli

    monkeypatch.setattr(cli, "LOAD_CHUNK", 7)
    values = [{"PK": f"p{i:02d}", "SK": "A"} for i in range(30)]
    path = write_lines(tmp_path / "items.jsonl", values)
    code, out, err = run(["load", str(path), "--table", TABLE], service)
    assert code == 0, err
    assert out == f"loaded 30 items into {TABLE}\n"
    assert "30/30 100%" in err
    assert len(stored(service)) == 30
    late_bad = [{"PK": f"q{i:02d}", "SK": "A"} for i in range(30)]
    bad = write_lines(tmp_path / "bad.jsonl", late_bad)
    bad.write_text(bad.read_text() + '{"PK": "late"}\n', encoding="utf-8")
    code, _, err = run(["load", str(bad), "--table", TABLE], service)
    assert code == 1 and "INVALID_KEY" in err
    assert len(stored(service)) == 30  # no chunk of the bad file was sent
