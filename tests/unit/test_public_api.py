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
        "import sys, tctf_dynamo, tctf_dynamo.providers, tctf_dynamo.testing; "
        "print(','.join(m for m in ('moto', 'cryptography', 'hypothesis', 'pytest', "
        "'opentelemetry', 'aiohttp', 'aiobotocore') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_the_package_is_typed() -> None:
    from importlib.resources import files

    assert files("tctf_dynamo").joinpath("py.typed").is_file()


PACKAGES = (
    "tctf_dynamo",
    "tctf_dynamo.batch",
    "tctf_dynamo.expressions",
    "tctf_dynamo.model",
    "tctf_dynamo.pagination",
    "tctf_dynamo.providers",
    "tctf_dynamo.resilience",
    "tctf_dynamo.uow",
)


def test_every_package_resolves_and_lists_its_public_names() -> None:
    import importlib

    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        assert set(package.__all__) <= set(dir(package)), package_name
        for name in package.__all__:
            assert getattr(package, name) is not None, (package_name, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = tctf_dynamo.Nope


def test_importing_the_package_alone_loads_neither_pydantic_nor_botocore() -> None:
    code = (
        "import sys, tctf_dynamo; "
        "print(','.join(m for m in ('pydantic', 'botocore', 'tctf_dynamo.sync.service') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_a_service_and_entities_leave_cursors_and_the_embedded_backend_unloaded() -> None:
    code = (
        "import sys\n"
        "from tctf_dynamo import DynamoDBService, Entity, Table\n"
        "DynamoDBService.from_endpoint('http://127.0.0.1:9', region_name='us-east-1',\n"
        "    aws_access_key_id='x', aws_secret_access_key='x')\n"
        "class Thing(Entity, table=Table('things'), pk='T#{thing_id}', sk='T'):\n"
        "    thing_id: str\n"
        "names = ('tctf_dynamo.pagination', 'tctf_dynamo.providers.embedded', 'tctf_dynamo.uow')\n"
        "print(','.join(m for m in names if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_a_name_shared_with_a_submodule_stays_the_function() -> None:
    import tctf_dynamo.expressions.evaluate  # noqa: F401 - binds the submodule's name
    from tctf_dynamo.expressions import evaluate

    assert callable(evaluate) and not isinstance(evaluate, type(sys))
