"""The demo `make demo` runs: what it prints is what it did."""

from __future__ import annotations

from decimal import Decimal

from examples import demo
from tctf_dynamo import DynamoDBService


def test_demo_transfers_refuses_and_queries() -> None:
    observed = demo.main(DynamoDBService.embedded())
    assert observed["balances"] == {"alice": Decimal("70"), "bob": Decimal("30")}
    assert observed["refused"] == "Update Account #0: CONDITION_FAILED"
    assert observed["recent"] == ["t3", "t4"]
    assert observed["stale"] == "CONDITION_FAILED"
    assert observed["invalid"] == "INVALID_KEY"


def test_demo_lists_only_examples_that_exist() -> None:
    import importlib.util

    for name in demo.PATTERNS:
        assert importlib.util.find_spec(f"examples.{name}") is not None, name
