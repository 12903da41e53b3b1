"""The public surface is a tested artifact: sorted, complete, cheap to import."""

from __future__ import annotations

import subprocess
import sys

import tctf_dynamo

DESIGN_CONTRACT = {
    "Table", "GSI", "Entity", "Repository", "UnitOfWork", "DynamoDBService",
    "DynamoDBServiceError", "ErrorCode", "RetryPolicy", "CircuitBreaker",
}  # fmt: skip


def test_all_is_sorted_and_unique() -> None:
    assert list(tctf_dynamo.__all__) == sorted(set(tctf_dynamo.__all__))


def test_every_exported_name_exists_and_is_public() -> None:
    for name in tctf_dynamo.__all__:
        assert hasattr(tctf_dynamo, name), name
        assert not name.startswith("_"), name


def test_the_design_contract_names_are_exported() -> None:
    assert set(tctf_dynamo.__all__) >= DESIGN_CONTRACT


def test_exported_classes_come_from_the_package() -> None:
    for name in tctf_dynamo.__all__:
        value = getattr(tctf_dynamo, name)
        module = getattr(value, "__module__", "tctf_dynamo")
        assert module.startswith("tctf_dynamo"), (name, module)


def test_importing_the_package_loads_no_heavy_optional_dependency() -> None:
    code = (
        "import sys, tctf_dynamo; "
        "print(','.join(m for m in ('moto', 'cryptography', 'hypothesis', 'pytest') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_the_package_is_typed() -> None:
    from importlib.resources import files

    assert files("tctf_dynamo").joinpath("py.typed").is_file()
