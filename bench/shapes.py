"""The one realistic record every scenario moves, in each competitor's preferred form.

An order with twelve attributes of the kinds real items hold: strings, an int, a Decimal,
a bool, a datetime, a list, a string set, a nested map, an optional, a float and a
200-character text. Keys follow the single-table habit: ``PK = CUSTOMER#<customer_id>``,
``SK = ORDER#<order_id>``, ten orders per customer so that a query returns a page of them.

Forms provided here:

* :func:`make_record` -- plain Python values (what our codec and entities take);
* :func:`boto3_record` -- the same values as boto3's ``TypeSerializer`` accepts them (it
  refuses ``float`` and ``datetime``, so the text and Decimal a boto3 user would store);
* :func:`floor_encode` / :func:`floor_decode` -- a hand-written converter for exactly this
  shape, no checks, no generality: the practical floor of any converter;
* :func:`our_entity` -- the library's entity for the shape (built on first use).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import ours

__all__ = [
    "ORDERS_PER_CUSTOMER",
    "TABLE_NAME",
    "TYPE_NAME",
    "boto3_record",
    "customer_id",
    "floor_decode",
    "floor_encode",
    "make_record",
    "make_records",
    "our_entity",
    "wire_key",
]

TABLE_NAME = "bench-orders"
TYPE_NAME = "BenchOrder"
ORDERS_PER_CUSTOMER = 10
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_TEXT = ("Handle with care: fragile contents, keep upright, deliver before noon. " * 3)[:200]


def customer_id(index: int) -> str:
    """The customer owning order ``index`` (ten consecutive orders per customer)."""
    return f"C{index // ORDERS_PER_CUSTOMER:07d}"


def make_record(index: int) -> dict[str, Any]:
    """Order number ``index`` as plain Python values; deterministic."""
    return {
        "customer_id": customer_id(index),
        "order_id": f"O{index:08d}",
        "quantity": index % 17 + 1,
        "total": Decimal(index % 1000) + Decimal(index % 100) / 100,
        "paid": index % 2 == 0,
        "created_at": _EPOCH + timedelta(seconds=index, microseconds=index % 1000),
        "tags": ["gift", "express", f"batch-{index % 7}"],
        "labels": {"priority", f"zone-{index % 5}"},
        "address": {"street": f"{index % 300} Main Street", "city": "Springfield", "zip": "01101"},
        "note": None if index % 3 else "leave at the door",
        "weight": 0.25 + (index % 40) / 8,
        "description": _TEXT,
    }


def make_records(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [make_record(index) for index in range(start, start + count)]


def boto3_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as boto3's TypeSerializer accepts it, with the keys a table needs."""
    converted = dict(record)
    converted["created_at"] = record["created_at"].isoformat()
    converted["weight"] = Decimal(repr(record["weight"]))
    converted["PK"] = f"CUSTOMER#{record['customer_id']}"
    converted["SK"] = f"ORDER#{record['order_id']}"
    converted["_type"] = TYPE_NAME
    return converted


def wire_key(record: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The low-level primary key of ``record``."""
    return {
        "PK": {"S": f"CUSTOMER#{record['customer_id']}"},
        "SK": {"S": f"ORDER#{record['order_id']}"},
    }


def floor_encode(record: dict[str, Any]) -> dict[str, Any]:
    """A wire item for exactly this shape, written out by hand: nothing generic, no checks."""
    item = {
        "PK": {"S": "CUSTOMER#" + record["customer_id"]},
        "SK": {"S": "ORDER#" + record["order_id"]},
        "_type": {"S": TYPE_NAME},
        "customer_id": {"S": record["customer_id"]},
        "order_id": {"S": record["order_id"]},
        "quantity": {"N": str(record["quantity"])},
        "total": {"N": str(record["total"])},
        "paid": {"BOOL": record["paid"]},
        "created_at": {"S": record["created_at"].isoformat()},
        "tags": {"L": [{"S": tag} for tag in record["tags"]]},
        "labels": {"SS": list(record["labels"])},
        "address": {"M": {key: {"S": value} for key, value in record["address"].items()}},
        "weight": {"N": repr(record["weight"])},
        "description": {"S": record["description"]},
    }
    if record["note"] is not None:
        item["note"] = {"S": record["note"]}
    return item


def floor_decode(item: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`floor_encode`, just as bare."""
    note = item.get("note")
    return {
        "customer_id": item["customer_id"]["S"],
        "order_id": item["order_id"]["S"],
        "quantity": int(item["quantity"]["N"]),
        "total": Decimal(item["total"]["N"]),
        "paid": item["paid"]["BOOL"],
        "created_at": datetime.fromisoformat(item["created_at"]["S"]),
        "tags": [tag["S"] for tag in item["tags"]["L"]],
        "labels": set(item["labels"]["SS"]),
        "address": {key: value["S"] for key, value in item["address"]["M"].items()},
        "note": note["S"] if note is not None else None,
        "weight": float(item["weight"]["N"]),
        "description": item["description"]["S"],
    }


@functools.cache
def our_entity() -> type[Any]:
    """The library's entity for the record, on its own table (defined once per process).

    Raises :class:`bench.ours.Unavailable` while the model layer cannot be imported.
    """
    entity_base: Any = ours.require("Entity")
    table = ours.require("Table")(TABLE_NAME)

    class BenchOrder(entity_base, table=table, pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}"):  # type: ignore[misc, call-arg]
        customer_id: str
        order_id: str
        quantity: int
        total: Decimal
        paid: bool
        created_at: datetime
        tags: list[str]
        labels: set[str]
        address: dict[str, str]
        note: str | None = None
        weight: float
        description: str

    return BenchOrder
