"""A realistic single-table model, built fresh per test so every test owns its table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Literal

from pydantic import Field

from tctf_dynamo import GSI, Entity, Table


def build_models(table_name: str) -> SimpleNamespace:
    """A table with one GSI and the entities of a small platform stored in it."""
    table = Table(table_name, indexes=[GSI("GSI1")])

    class User(
        Entity,
        table=table,
        pk="USER#{user_id}",
        sk="PROFILE",
        gsi1=("EMAIL#{email}", "USER#{user_id}"),
        version="version",
        timestamps=True,
    ):
        user_id: str
        email: str
        name: str
        credits: int = 0
        tags: set[str] = Field(default_factory=set)

    class Session(Entity, table=table, pk="USER#{user_id}", sk="SESSION#{created_at}#{session_id}"):
        user_id: str
        session_id: str
        created_at: datetime
        device: str = "web"

    class Order(
        Entity,
        table=table,
        pk="USER#{user_id}",
        sk="ORDER#{order_id}",
        gsi1=("STATUS#{status}", "ORDER#{placed_at}"),
    ):
        user_id: str
        order_id: str
        status: Literal["OPEN", "SHIPPED"] | None = None
        placed_at: datetime | None = None
        total: Decimal = Decimal(0)

    return SimpleNamespace(table=table, User=User, Session=Session, Order=Order)
