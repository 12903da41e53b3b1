"""The testing kit's surface: lazy re-exports, create_tables, the recorder, the janitor."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

import tctf_dynamo.testing as kit
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model import Table
from tctf_dynamo.providers import MockProvider, RecordingProvider
from tctf_dynamo.sync.service import DynamoDBService
from tctf_dynamo.testing.pytest_plugin import DynamoRecorder, _TableJanitor, create_tables

HEAVY = ("moto", "hypothesis", "pytest", "cryptography")


def loaded_after(code: str) -> set[str]:
    """Which heavy modules a fresh interpreter holds after running ``code``."""
    probe = f"import sys; {code}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    return set(filter(None, out.split(",")))


def test_importing_the_kit_loads_no_heavy_dependency() -> None:
    assert loaded_after("import tctf_dynamo.testing") == set()


def test_fault_injection_names_load_neither_hypothesis_nor_moto() -> None:
    code = "import tctf_dynamo.testing as t; t.FaultRates; t.FaultInjectingProvider"
    assert loaded_after(code) == set()


def test_strategies_load_hypothesis_only_when_used() -> None:
    assert loaded_after("from tctf_dynamo.testing import entities") == {"hypothesis"}


def test_loading_the_plugin_builds_no_backend() -> None:
    loaded = loaded_after("import tctf_dynamo.testing.pytest_plugin")
    assert loaded == {"pytest"}


def test_all_is_sorted_and_every_name_is_the_object_of_its_module() -> None:
    assert list(kit.__all__) == sorted(set(kit.__all__))
    for name in kit.__all__:
        module = importlib.import_module(kit._MODULE_OF[name])
        assert getattr(kit, name) is getattr(module, name), name


def test_dir_lists_the_public_names() -> None:
    assert set(kit.__all__) <= set(dir(kit))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        kit.nothing_here  # noqa: B018


# --------------------------------------------------------------------- create_tables


def table_backend(existing: set[str]) -> MockProvider:
    """Answers CreateTable (refusing tables in ``existing``) and DescribeTable (ACTIVE)."""

    def handle(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        name = request["TableName"]
        if operation == "CreateTable":
            if name in existing:
                raise error_for(ErrorCode.TABLE_ALREADY_EXISTS, "table exists", {"table": name})
            existing.add(name)
            return {"TableDescription": {"TableName": name, "TableStatus": "CREATING"}}
        if operation == "DescribeTable":
            return {"Table": {"TableName": name, "TableStatus": "ACTIVE"}}
        if operation == "DeleteTable":
            existing.discard(name)
            return {}
        raise AssertionError(f"unexpected {operation}")

    return MockProvider(handle)


def test_create_tables_creates_each_table_in_order_and_waits_for_it() -> None:
    recording = RecordingProvider(table_backend(set()))
    service = DynamoDBService(recording)
    create_tables(service, Table("orders"), Table("audit"))
    assert recording.operations == ["CreateTable", "DescribeTable"] * 2
    assert [r["TableName"] for r in recording.requests("CreateTable")] == ["orders", "audit"]
    created = recording.requests("CreateTable")[0]
    assert {k["AttributeName"] for k in created["KeySchema"]} == {"PK", "SK"}


def test_create_tables_leaves_an_existing_table_as_it_is() -> None:
    existing = {"orders"}
    service = DynamoDBService(table_backend(existing))
    create_tables(service, Table("orders"))
    assert existing == {"orders"}


def test_create_tables_with_no_table_sends_nothing() -> None:
    recording = RecordingProvider(table_backend(set()))
    create_tables(DynamoDBService(recording))
    assert recording.calls == []


# --------------------------------------------------------------------- the recorder


def test_recorder_reads_through_to_the_recording_provider() -> None:
    recording = RecordingProvider(MockProvider(lambda operation, request: {"Item": None}))
    recorder = DynamoRecorder(service=DynamoDBService(recording), provider=recording)
    get = {"TableName": "t", "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}}}
    recorder.service.execute("GetItem", get)
    recorder.service.execute("Scan", {"TableName": "t"})
    assert recorder.operations == ["GetItem", "Scan"]
    assert recorder.requests("GetItem") == [get]
    assert recorder.calls[0].request == get
    assert recorder.calls[1].succeeded
    recorder.clear()
    assert recorder.calls == []


# --------------------------------------------------------------------- the janitor


def test_janitor_remembers_only_the_tables_it_created() -> None:
    janitor = _TableJanitor(table_backend({"kept"}))
    service = DynamoDBService(janitor)
    create_tables(service, Table("fresh"), Table("kept"))
    service.describe_table("fresh")
    assert janitor.created == ["fresh"]


def test_janitor_closes_its_inner_provider() -> None:
    inner = table_backend(set())
    with _TableJanitor(inner):
        pass
    assert inner.closed
