"""The tctf-dynamo command, run in-process against the embedded backend."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
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
    argv = ["load", str(path), "--table", TABLE, "--workers", "3", "--progress"]
    code, out, err = run(argv, service)
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
    code, out, err = run(["load", str(path), "--table", TABLE, "--progress"], service)
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


# ---------------------------------------------------------------- check and describe

SHOP = """
from datetime import datetime
from tctf_dynamo import GSI, Entity, Table

table = Table("cli-shop", indexes=[GSI("GSI1")])


class Customer(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="PROFILE",
               gsi1=("EMAIL#{email}", "CUSTOMER")):
    customer_id: str
    email: str


class Order(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="ORDER#{placed_at}#{number}",
            gsi1=("STATUS#{status}", "{placed_at}")):
    customer_id: str
    number: int
    placed_at: datetime
    status: str
"""


@pytest.fixture
def schema_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        monkeypatch.delitem(sys.modules, name, raising=False)
        return name

    return write


def test_check_passes_a_sound_schema(schema_module: Callable[[str, str], str]) -> None:
    module = schema_module("cli_shop_ok", SHOP)
    code, out, err = run(["check", f"{module}:table", "--max-examples", "10"])
    assert (code, err) == (0, "")
    assert out == "table cli-shop: key schema sound (Customer, Order)\n"


def test_check_fails_when_a_property_fails(
    schema_module: Callable[[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tctf_dynamo.testing import schema_checks

    def broken(table: Table, max_examples: int = 100) -> None:
        raise AssertionError("Order vs Customer: distinct keys")

    monkeypatch.setattr(schema_checks, "check_key_schema", broken)
    module = schema_module("cli_shop_broken", SHOP)
    code, out, err = run(["check", f"{module}:table"])
    assert (code, out) == (1, "")
    assert err == "check failed: table cli-shop: Order vs Customer: distinct keys\n"


def test_check_fails_when_the_module_defines_colliding_entities(
    schema_module: Callable[[str, str], str],
) -> None:
    clash = SHOP + (
        '\n\nclass Clash(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="PROFILE"):\n'
        "    customer_id: str\n"
    )
    module = schema_module("cli_shop_clash", clash)
    code, _, err = run(["check", f"{module}:table"])
    assert code == 1
    assert err.startswith("error: [INVALID_SCHEMA] Clash: key templates on the primary key")


def test_describe_prints_the_design_as_markdown(schema_module: Callable[[str, str], str]) -> None:
    module = schema_module("cli_shop_describe", SHOP)
    code, out, _ = run(["describe", f"{module}:table"])
    assert code == 0
    assert out.startswith("# Table `cli-shop`\n")
    assert "| GSI1 | `GSI1PK` (S) | `GSI1SK` (S) |" in out
    assert "| Order | table | `CUSTOMER#{customer_id}` | `ORDER#{placed_at}#{number}` |" in out
    assert "| find Customer by email | GSI1 | GSI1PK = `EMAIL#{email}` |" in out
    assert (
        "| list Order of one customer_id, ordered by placed_at, number | table | "
        "PK = `CUSTOMER#{customer_id}`, SK begins with `ORDER#` |"
    ) in out
    assert "| Customer and Order of one customer_id, together | table |" in out


# ---------------------------------------------------------------- options


def test_connection_options_go_before_or_after_the_command() -> None:
    from tctf_dynamo.cli import build_parser

    parser = build_parser()
    before = parser.parse_args(
        ["--region", "eu-west-3", "--endpoint", "http://x", "export", "--table", "t"]
    )
    after = parser.parse_args(
        ["export", "--table", "t", "--region", "eu-west-3", "--endpoint", "http://x"]
    )
    assert (before.region, before.endpoint) == (after.region, after.endpoint)
    assert (before.region, before.endpoint) == ("eu-west-3", "http://x")


def test_a_profile_names_the_aws_config_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tctf_dynamo.cli import _service_for, build_parser

    config = tmp_path / "config"
    config.write_text("[profile reviews]\nregion = ap-southeast-2\n", encoding="utf-8")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[reviews]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = x\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    args = build_parser().parse_args(["--profile", "reviews", "export", "--table", "t"])
    service = _service_for(args)
    try:
        client = service.provider.client  # type: ignore[attr-defined]
        assert client.meta.region_name == "ap-southeast-2"
        assert client.meta.config.retries["total_max_attempts"] == 1
    finally:
        service.close()
    code, _, err = run(["--profile", "nowhere", "export", "--table", "t"])
    assert code == 1
    assert "INVALID_CONFIGURATION" in err and "ProfileNotFound" in err


@pytest.mark.parametrize(
    "argv", [["load", "x.jsonl", "--table", TABLE], ["export", "--table", "t"]]
)
def test_load_and_export_refuse_embedded_with_a_reason(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--embedded"])
    assert caught.value.code == 2
    assert "--embedded is only for create-table" in capsys.readouterr().err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "stream, flags, drawn",
    [
        (io.StringIO, [], False),
        (Terminal, [], True),
        (io.StringIO, ["--progress"], True),
        (Terminal, ["--no-progress"], False),
    ],
)
def test_the_progress_bar_draws_only_on_a_terminal_unless_asked(
    service: DynamoDBService,
    tmp_path: Path,
    stream: type[io.StringIO],
    flags: list[str],
    drawn: bool,
) -> None:
    path = write_lines(tmp_path / "items.jsonl", [{"PK": f"p{i}", "SK": "A"} for i in range(40)])
    err = stream()
    code = main(
        ["load", str(path), "--table", TABLE, *flags],
        service=service,
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 0
    assert ("40/40 100%" in err.getvalue()) is drawn
