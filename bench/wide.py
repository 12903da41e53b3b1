"""The wide, realistic record: an order as a shop stores it, with nested models and sets.

Twenty-five attributes: identifiers and status strings, three datetimes (one optional),
four Decimals, ints and bools, a string set and a number set, a list of strings, two
nested address models, three nested order lines (each a model with a Decimal price), a
string map and two long texts (about 600 and 1,200 characters). Keys follow the same
single-table habit as :mod:`bench.shapes` (``CUSTOMER#<id>`` / ``ORDER#<id>``).

Forms: :func:`make_record` (plain values, nested models as dicts), :func:`boto3_record`
(what boto3's TypeSerializer accepts: text dates), :func:`our_entity` (the library's
entity, nested pydantic models), :func:`pynamodb_model` / :func:`pynamodb_order`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import ours, peers, shapes

__all__ = ["TABLE_NAME", "boto3_record", "make_record", "our_entity", "pynamodb_model"]

TABLE_NAME = "bench-wide"
TYPE_NAME = "WideOrder"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_NOTES = ("Customer asked for a call before delivery; gate code 4411; dog in the yard. " * 9)[:600]
_DESCRIPTION = (
    "Order assembled from three warehouses, packed in recycled material, insured for its "
    "full value and tracked end to end; returns accepted within thirty days. "
) * 8
_DESCRIPTION = _DESCRIPTION[:1200]


def _address(index: int, kind: str) -> dict[str, Any]:
    return {
        "name": f"Customer {index:06d}",
        "street": f"{index % 900 + 1} {kind.title()} Avenue",
        "city": "Springfield",
        "postcode": f"{index % 90000 + 10000}",
        "country": "US",
    }


def _line(index: int, number: int) -> dict[str, Any]:
    return {
        "sku": f"SKU-{(index + number) % 5000:05d}",
        "title": f"Item {number} of order {index}",
        "quantity": number + 1,
        "unit_price": Decimal(f"{(index + number) % 500}.{number * 7 % 100:02d}"),
    }


def make_record(index: int) -> dict[str, Any]:
    """Order ``index`` as plain Python values (nested models as dicts); deterministic."""
    created = _EPOCH + timedelta(seconds=index, microseconds=index % 1000)
    return {
        "customer_id": shapes.customer_id(index),
        "order_id": f"W{index:08d}",
        "status": ("PLACED", "PAID", "SHIPPED")[index % 3],
        "channel": "web",
        "currency": "USD",
        "created_at": created,
        "updated_at": created + timedelta(minutes=5),
        "shipped_at": None if index % 3 != 2 else created + timedelta(days=1),
        "subtotal": Decimal(index % 1000) + Decimal("0.99"),
        "tax": Decimal(index % 100) / 10,
        "shipping_cost": Decimal("4.95"),
        "total": Decimal(index % 1000) + Decimal(index % 100) / 10 + Decimal("5.94"),
        "item_count": 3,
        "priority": index % 5,
        "paid": index % 3 != 0,
        "gift": index % 7 == 0,
        "tags": {"express", f"region-{index % 4}", f"batch-{index % 11}"},
        "warehouse_ids": {index % 13 + 1, index % 17 + 20, 99},
        "coupon_codes": ["WELCOME", f"C{index % 50:03d}"],
        "shipping": _address(index, "ship"),
        "billing": _address(index, "bill"),
        "lines": [_line(index, number) for number in range(3)],
        "attributes": {"source": "campaign", "device": "mobile", "ab": f"v{index % 2}"},
        "notes": _NOTES,
        "description": _DESCRIPTION,
    }


def make_records(count: int) -> list[dict[str, Any]]:
    return [make_record(index) for index in range(count)]


def boto3_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as boto3's TypeSerializer takes it (text dates, no None), with keys."""
    converted = {key: value for key, value in record.items() if value is not None}
    for name in ("created_at", "updated_at", "shipped_at"):
        if name in converted:
            converted[name] = converted[name].isoformat()
    converted["PK"] = f"CUSTOMER#{record['customer_id']}"
    converted["SK"] = f"ORDER#{record['order_id']}"
    converted["_type"] = TYPE_NAME
    return converted


@functools.cache
def our_entity() -> type[Any]:
    """The library's entity for the wide record, on its own table (one per process)."""
    import pydantic

    entity_base: Any = ours.require("Entity")
    table = ours.require("Table")(TABLE_NAME)

    class Address(pydantic.BaseModel):
        name: str
        street: str
        city: str
        postcode: str
        country: str

    class Line(pydantic.BaseModel):
        sku: str
        title: str
        quantity: int
        unit_price: Decimal

    class WideOrder(entity_base, table=table, pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}"):  # type: ignore[misc, call-arg]
        customer_id: str
        order_id: str
        status: str
        channel: str
        currency: str
        created_at: datetime
        updated_at: datetime
        shipped_at: datetime | None = None
        subtotal: Decimal
        tax: Decimal
        shipping_cost: Decimal
        total: Decimal
        item_count: int
        priority: int
        paid: bool
        gift: bool
        tags: set[str]
        warehouse_ids: set[int]
        coupon_codes: list[str]
        shipping: Address
        billing: Address
        lines: list[Line]
        attributes: dict[str, str]
        notes: str
        description: str

    return WideOrder


@functools.cache
def pynamodb_model(host: str) -> type[Any]:
    """PynamoDB's model of the wide record (its NumberAttribute takes floats, not Decimal)."""
    try:
        from pynamodb.attributes import (
            BooleanAttribute,
            ListAttribute,
            MapAttribute,
            NumberAttribute,
            NumberSetAttribute,
            UnicodeAttribute,
            UnicodeSetAttribute,
            UTCDateTimeAttribute,
        )
        from pynamodb.models import Model
    except ImportError as error:
        raise peers.PeerUnavailable(f"pynamodb is not installed ({error})") from error
    endpoint = host

    class Address(MapAttribute[str, Any]):
        name = UnicodeAttribute()
        street = UnicodeAttribute()
        city = UnicodeAttribute()
        postcode = UnicodeAttribute()
        country = UnicodeAttribute()

    class Line(MapAttribute[str, Any]):
        sku = UnicodeAttribute()
        title = UnicodeAttribute()
        quantity = NumberAttribute()
        unit_price = NumberAttribute()

    class PynamoWide(Model):
        class Meta:
            table_name = TABLE_NAME
            host = endpoint
            region = peers.REGION
            aws_access_key_id = peers.ACCESS_KEY
            aws_secret_access_key = peers.SECRET_KEY

        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")
        type_name = UnicodeAttribute(attr_name="_type", default=TYPE_NAME)
        customer_id = UnicodeAttribute()
        order_id = UnicodeAttribute()
        status = UnicodeAttribute()
        channel = UnicodeAttribute()
        currency = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        shipped_at = UTCDateTimeAttribute(null=True)
        subtotal = NumberAttribute()
        tax = NumberAttribute()
        shipping_cost = NumberAttribute()
        total = NumberAttribute()
        item_count = NumberAttribute()
        priority = NumberAttribute()
        paid = BooleanAttribute()
        gift = BooleanAttribute()
        tags = UnicodeSetAttribute()
        warehouse_ids = NumberSetAttribute()
        coupon_codes = ListAttribute(of=UnicodeAttribute)
        shipping = Address()  # type: ignore[no-untyped-call]
        billing = Address()  # type: ignore[no-untyped-call]
        lines = ListAttribute(of=Line)
        attributes: MapAttribute[str, Any] = MapAttribute()  # type: ignore[no-untyped-call]
        notes = UnicodeAttribute()
        description = UnicodeAttribute()

    return PynamoWide


def pynamodb_order(model: type[Any], record: dict[str, Any]) -> Any:
    """An instance of PynamoDB's wide model holding ``record`` (Decimals as floats)."""
    values = dict(record)
    for name in ("subtotal", "tax", "shipping_cost", "total"):
        values[name] = float(record[name])
    line_type = model.lines.element_type
    values["lines"] = [
        line_type(**{**line, "unit_price": float(line["unit_price"])}) for line in record["lines"]
    ]
    for name in ("shipping", "billing"):
        values[name] = type(model.shipping)(**record[name])
    return model(pk=f"CUSTOMER#{record['customer_id']}", sk=f"ORDER#{record['order_id']}", **values)
