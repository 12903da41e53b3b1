"""The async web-service example: concurrent orders on one wallet, all or nothing each."""

from __future__ import annotations

from decimal import Decimal

from examples import async_orders


def test_concurrent_orders_spend_the_wallet_exactly_once_each() -> None:
    observed = async_orders.main()
    assert observed["statuses"].count(201) == 3  # 100 covers three orders of 30
    assert observed["statuses"].count(409) == 5  # the rest are refused, nothing written
    assert len(observed["orders"]) == 3
    assert observed["balance"] == Decimal("10")
    assert len({order["order_id"] for order in observed["orders"]}) == 3
