"""Stream records into entities: Lambda JSON, boto3 wire and Powertools give the same objects.

Records are built the way DynamoDB Streams builds them: the item a write stores (the
entity's own wire item) becomes the image, and Lambda delivers it as JSON, with binaries
in base64. The same event then goes through Powertools' data classes.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from tctf_dynamo import DynamoDBServiceError, Entity, ErrorCode, Table
from tctf_dynamo.streams import (
    TTL_PRINCIPAL,
    StreamRouter,
    decode_event,
    decode_image,
    decode_plain_image,
    decode_record,
)
from tctf_dynamo.wire.jsonwire import item_to_json

table = Table("streams-shop")


class Address(pydantic.BaseModel):
    city: str
    photo: bytes | None = None


class Order(Entity, table=table, pk="ORDER#{order_id}", sk="META", ttl="expires_at"):
    order_id: str
    placed_at: datetime
    total: Decimal
    receipt: bytes
    thumbnails: set[bytes] = pydantic.Field(default_factory=set)
    tags: set[str] = pydantic.Field(default_factory=set)
    quantities: set[int] = pydantic.Field(default_factory=set)
    ship_to: Address
    history: list[Address] = pydantic.Field(default_factory=list)
    expires_at: datetime | None = None


class Customer(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="META"):
    customer_id: str
    avatar: bytes | None = None
    note: str | bytes | None = None


ORDER = Order(
    order_id="o-1",
    placed_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    total=Decimal("12.30"),
    receipt=b"\x00\xffPDF-1.7\n\x89",
    thumbnails={b"\x01\x02", b"\xfe"},
    tags={"gift", "fragile"},
    quantities={1, 3},
    ship_to=Address(city="Lyon", photo=b"\x00jpg"),
    history=[Address(city="Paris", photo=b"\x10\x20")],
    expires_at=datetime(2026, 5, 1, tzinfo=UTC),
)
SHIPPED = ORDER.model_copy(update={"tags": {"shipped"}, "receipt": b"\x00\x00"})
CUSTOMER = Customer(customer_id="c-1", avatar=b"\x89PNG")


def _record(
    event_name: str,
    key_of: Entity,
    *,
    old: Entity | dict[str, Any] | None = None,
    new: Entity | dict[str, Any] | None = None,
    identity: dict[str, str] | None = None,
    sequence: str = "111",
) -> dict[str, Any]:
    """A record as Lambda delivers it: JSON, binaries in base64."""
    item = key_of.to_item()
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_772_600_000,
        "Keys": item_to_json({name: item[name] for name in ("PK", "SK")}),
        "SequenceNumber": sequence,
        "SizeBytes": 321,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    for name, image in (("OldImage", old), ("NewImage", new)):
        if image is not None:
            wire = image.to_item() if isinstance(image, Entity) else image
            body[name] = item_to_json(wire)
    record: dict[str, Any] = {
        "eventID": f"id-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": body,
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/streams-shop/stream/x",
    }
    if identity is not None:
        record["userIdentity"] = identity
    # through JSON text, as Lambda hands it over
    decoded: dict[str, Any] = json.loads(json.dumps(record))
    return decoded


TTL_IDENTITY = {"type": "Service", "principalId": TTL_PRINCIPAL}
EVENT = {
    "Records": [
        _record("INSERT", ORDER, new=ORDER, sequence="1"),
        _record("MODIFY", ORDER, old=ORDER, new=SHIPPED, sequence="2"),
        _record("INSERT", CUSTOMER, new=CUSTOMER, sequence="3"),
        _record("REMOVE", ORDER, old=SHIPPED, identity=TTL_IDENTITY, sequence="4"),
        _record("REMOVE", CUSTOMER, old=CUSTOMER, sequence="5"),
    ]
}


def _canonical(value: Any) -> Any:
    """A wire value with set members sorted: a set's order on the wire is its iteration
    order, which may differ between two equal sets, and DynamoDB ignores it."""
    if isinstance(value, dict):
        return {
            name: sorted(member) if name in ("SS", "NS", "BS") else _canonical(member)
            for name, member in value.items()
        }
    if isinstance(value, list):
        return [_canonical(member) for member in value]
    return value


def _same(left: Entity | None, right: Entity | None) -> None:
    """Equal as objects and as the bytes they would store."""
    assert type(left) is type(right)
    assert left == right
    if left is not None and right is not None:
        assert _canonical(left.to_item()) == _canonical(right.to_item())


# ---------------------------------------------------------------- the documented call


def test_lambda_json_records_decode_to_the_stored_entities() -> None:
    changes = list(decode_event(table, EVENT))
    assert [c.event_name for c in changes] == ["INSERT", "MODIFY", "INSERT", "REMOVE", "REMOVE"]
    insert, modify, customer, expired, deleted = changes
    _same(insert.new, ORDER)
    assert insert.old is None and insert.entity_type is Order and insert.type_name == "Order"
    _same(modify.old, ORDER)
    _same(modify.new, SHIPPED)
    assert isinstance(modify.new, Order) and modify.new.receipt == b"\x00\x00"
    _same(customer.new, CUSTOMER)
    assert customer.keys == {"PK": "CUSTOMER#c-1", "SK": "META"}
    _same(expired.old, SHIPPED)
    assert expired.new is None and expired.entity == SHIPPED
    assert (expired.expired, deleted.expired) == (True, False)
    assert (insert.event_id, insert.sequence_number) == ("id-1", "1")


def test_binary_values_are_the_raw_bytes_not_their_base64_text() -> None:
    change = decode_record(table, EVENT["Records"][0])
    assert isinstance(change.new, Order)
    assert change.new.receipt == ORDER.receipt
    assert change.new.thumbnails == {b"\x01\x02", b"\xfe"}
    assert change.new.ship_to.photo == b"\x00jpg"
    assert change.new.history[0].photo == b"\x10\x20"
    assert change.new.quantities == {1, 3} and change.new.tags == {"gift", "fragile"}
    assert change.new.placed_at == ORDER.placed_at and change.new.expires_at == ORDER.expires_at


def test_wire_records_with_bytes_decode_the_same_as_lambda_json() -> None:
    """A boto3 GetRecords response holds bytes where Lambda JSON holds base64 text."""
    record = copy.deepcopy(EVENT["Records"][1])
    record["dynamodb"]["OldImage"] = ORDER.to_item()
    record["dynamodb"]["NewImage"] = SHIPPED.to_item()
    from_wire = decode_record(table, record)
    from_json = decode_record(table, EVENT["Records"][1])
    _same(from_wire.old, from_json.old)
    _same(from_wire.new, from_json.new)
    assert from_wire.new_item == from_json.new_item == SHIPPED.to_item()


def test_an_image_alone_decodes_too() -> None:
    _same(decode_image(table, EVENT["Records"][0]["dynamodb"]["NewImage"]), ORDER)


def test_a_ttl_remove_is_told_apart_from_a_user_delete() -> None:
    changes = list(decode_event(table, EVENT))
    assert [c.expired for c in changes] == [False, False, False, True, False]
    not_ttl = copy.deepcopy(EVENT["Records"][4])
    not_ttl["userIdentity"] = {"type": "Service", "principalId": "other.amazonaws.com"}
    assert decode_record(table, not_ttl).expired is False


# ---------------------------------------------------------------- unknown types


def _foreign() -> dict[str, Any]:
    wire = {"PK": {"S": "AUDIT#1"}, "SK": {"S": "META"}, "_type": {"S": "AuditLog"}}
    return _record("INSERT", CUSTOMER, new=wire)


def test_an_unknown_type_raises_unless_kept() -> None:
    with pytest.raises(DynamoDBServiceError) as caught:
        decode_record(table, _foreign())
    assert caught.value.code is ErrorCode.INVALID_ITEM
    assert caught.value.details["type"] == "AuditLog"
    kept = decode_record(table, _foreign(), unknown="keep")
    assert (kept.known, kept.entity_type, kept.type_name, kept.new) == (
        False,
        None,
        "AuditLog",
        None,
    )
    assert kept.new_item == _foreign()["dynamodb"]["NewImage"]


def test_a_known_type_that_fails_validation_raises_even_when_keeping_unknowns() -> None:
    wire = CUSTOMER.to_item()
    del wire["customer_id"]
    wire["PK"] = {"S": "CUSTOMER#"}
    with pytest.raises(DynamoDBServiceError) as caught:
        decode_record(table, _record("INSERT", CUSTOMER, new=wire), unknown="keep")
    assert caught.value.code is ErrorCode.INVALID_ITEM


def test_keys_only_records_have_no_entity() -> None:
    record = copy.deepcopy(EVENT["Records"][0])
    del record["dynamodb"]["NewImage"]
    change = decode_record(table, record)
    assert (change.entity_type, change.new, change.old) == (None, None, None)
    assert change.keys == {"PK": "ORDER#o-1", "SK": "META"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.update(eventName="UPSERT"),
        lambda r: r.pop("dynamodb"),
        lambda r: r["dynamodb"]["NewImage"]["receipt"].update(B="not base64!"),
    ],
)
def test_malformed_records_are_invalid_items(damage: Any) -> None:
    record = copy.deepcopy(EVENT["Records"][0])
    damage(record)
    with pytest.raises(DynamoDBServiceError) as caught:
        decode_record(table, record)
    assert caught.value.code is ErrorCode.INVALID_ITEM


# ---------------------------------------------------------------- Powertools


def test_powertools_records_give_the_same_entities_byte_for_byte() -> None:
    ours = list(decode_event(table, EVENT))
    event = DynamoDBStreamEvent(copy.deepcopy(EVENT))
    theirs = [decode_record(table, record) for record in event.records]
    assert len(theirs) == len(ours)
    for mine, powertools in zip(ours, theirs, strict=True):
        _same(mine.old, powertools.old)
        _same(mine.new, powertools.new)
        assert (mine.event_name, mine.keys, mine.expired) == (
            powertools.event_name,
            powertools.keys,
            powertools.expired,
        )
    assert list(decode_event(table, event)) == ours


def test_powertools_deserialized_images_hold_base64_text_for_binaries() -> None:
    """What Powertools gives: Decimal numbers, Python sets, and binaries as *text*."""
    image = next(DynamoDBStreamEvent(copy.deepcopy(EVENT)).records).dynamodb.new_image  # type: ignore[union-attr]
    assert image["total"] == Decimal("12.3") and isinstance(image["total"], Decimal)
    assert image["tags"] == {"gift", "fragile"}
    assert image["quantities"] == {Decimal(1), Decimal(3)}
    assert image["receipt"] == base64.b64encode(ORDER.receipt).decode()
    # which is why validating it directly stores the wrong bytes without a word
    assert Order.model_validate(image).receipt != ORDER.receipt


def test_powertools_deserialized_images_decode_to_the_same_entities() -> None:
    for raw, record in zip(
        EVENT["Records"], DynamoDBStreamEvent(copy.deepcopy(EVENT)).records, strict=True
    ):
        stream = record.dynamodb
        assert stream is not None
        expected = decode_record(table, raw)
        if expected.new is not None:
            _same(decode_plain_image(table, stream.new_image), expected.new)
        if expected.old is not None:
            _same(decode_plain_image(table, stream.old_image), expected.old)


def test_a_plain_image_refuses_a_field_that_may_be_text_or_bytes() -> None:
    wire = Customer(customer_id="c-2", note="hello").to_item()
    image = {name: value for name, value in _plain(wire).items()}
    with pytest.raises(DynamoDBServiceError) as caught:
        decode_plain_image(table, image)
    assert caught.value.code is ErrorCode.INVALID_ITEM
    assert caught.value.details["field"] == "note"


def _plain(wire: dict[str, Any]) -> dict[str, Any]:
    record = _record("INSERT", CUSTOMER, new=wire)
    stream = next(DynamoDBStreamEvent({"Records": [record]}).records).dynamodb
    assert stream is not None
    return stream.new_image


# ---------------------------------------------------------------- routing


def test_the_router_sends_each_type_to_its_handler() -> None:
    router = StreamRouter(table)
    seen: list[tuple[str, str, Any]] = []

    @router.on(Order)
    def orders(change: Any) -> str:
        seen.append(("order", change.event_name, change.entity))
        return "o"

    @router.on(Customer)
    def customers(change: Any) -> str:
        seen.append(("customer", change.event_name, change.entity))
        return "c"

    assert router.route_event(EVENT) == ["o", "o", "c", "o", "c"]
    assert [(kind, name) for kind, name, _ in seen] == [
        ("order", "INSERT"),
        ("order", "MODIFY"),
        ("customer", "INSERT"),
        ("order", "REMOVE"),
        ("customer", "REMOVE"),
    ]
    assert seen[1][2] == SHIPPED


def test_the_router_refuses_what_nobody_handles_and_hands_it_to_on_unknown() -> None:
    router = StreamRouter(table)
    router.on(Order)(lambda change: "o")
    with pytest.raises(DynamoDBServiceError) as caught:
        router.route(_foreign())
    assert caught.value.details["type"] == "AuditLog"
    with pytest.raises(DynamoDBServiceError):
        router.route(EVENT["Records"][2])  # a Customer: no handler either
    router.on_unknown(lambda change: ("unknown", change.type_name))
    assert router.route(_foreign()) == ("unknown", "AuditLog")
    assert router.route(EVENT["Records"][2]) == ("unknown", "Customer")


def test_powertools_batch_processor_reports_the_failed_records() -> None:
    """The docs recipe: records that fail are reported, the rest are processed once."""
    router = StreamRouter(table)
    processed: list[str | None] = []

    @router.on(Order)
    def orders(change: Any) -> None:
        processed.append(change.sequence_number)

    @router.on(Customer)
    def customers(change: Any) -> None:
        raise RuntimeError("downstream refused")

    event = copy.deepcopy(EVENT)
    event["Records"].append(_foreign())
    response = process_partial_response(
        event=event,
        record_handler=router.route,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=None,  # type: ignore[arg-type]
    )
    assert processed == ["1", "2", "4"]
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": "3"},
            {"itemIdentifier": "5"},
            {"itemIdentifier": "111"},
        ]
    }
