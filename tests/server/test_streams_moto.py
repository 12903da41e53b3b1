"""Stream records written by a DynamoDB implementation decode into the entities written.

The library writes entities to moto server over HTTP; moto's DynamoDB Streams then serves
the records in the real wire format (JSON, binaries in base64), which is also the shape
of a Lambda event's records. They go through the documented call, through Powertools'
event classes and through a boto3 ``GetRecords`` response, and must all give the
entities that were written, byte for byte.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pydantic
import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from tctf_dynamo import DynamoDBService, Entity, Repository, Table
from tctf_dynamo.streams import TTL_PRINCIPAL, decode_event, decode_plain_image, decode_record

pytestmark = pytest.mark.server

table = Table(f"streams-{uuid.uuid4().hex[:8]}")
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}


class Parcel(pydantic.BaseModel):
    label: bytes
    weights: list[Decimal]


class Shipment(Entity, table=table, pk="SHIPMENT#{shipment_id}", sk="META", ttl="expires_at"):
    shipment_id: str
    sent_at: datetime
    manifest: bytes
    seals: set[bytes]
    tags: set[str]
    parcels: list[Parcel]
    expires_at: datetime | None = None


class Carrier(Entity, table=table, pk="CARRIER#{carrier_id}", sk="META"):
    carrier_id: str
    logo: bytes | None = None
    ratings: set[int] = pydantic.Field(default_factory=set)


SHIPMENT = Shipment(
    shipment_id="s-1",
    sent_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    manifest=b"\x00\xff\x10manifest",
    seals={b"\x01", b"\xfe\xfd"},
    tags={"cold", "fragile"},
    parcels=[Parcel(label=b"\x89lbl", weights=[Decimal("1.25"), Decimal(3)])],
    expires_at=datetime(2027, 1, 1, tzinfo=UTC),
)
DELIVERED = SHIPMENT.model_copy(update={"tags": {"delivered"}, "manifest": b"\x00"})
CARRIER = Carrier(carrier_id="c-1", logo=b"\x89PNG\r\n", ratings={4, 5})


@pytest.fixture(scope="module")
def stream_records(moto_endpoint: str) -> Iterator[tuple[list[dict[str, Any]], list[Any]]]:
    """(records as JSON text gives them, records as boto3 parses them) of four writes."""
    service = DynamoDBService.from_endpoint(moto_endpoint, **CREDENTIALS)
    request = table.create_table_request()
    request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    service.execute("CreateTable", request)
    arn = service.describe_table(table)["LatestStreamArn"]
    shipments, carriers = Repository(Shipment, service), Repository(Carrier, service)
    shipments.create(SHIPMENT)
    shipments.put(DELIVERED)
    carriers.create(CARRIER)
    shipments.delete({"shipment_id": "s-1"})

    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, **CREDENTIALS)
    bodies: list[bytes] = []
    streams.meta.events.register(
        "after-call.dynamodbstreams.GetRecords",
        lambda http_response, **_: bodies.append(http_response.content),
    )
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    parsed = streams.get_records(ShardIterator=iterator)["Records"]
    try:
        yield json.loads(bodies[0])["Records"], parsed
    finally:
        streams.close()
        service.delete_table(table)
        service.close()


def _same(left: Entity | None, right: Entity | None) -> None:
    assert type(left) is type(right)
    assert left == right
    if left is not None and right is not None:
        assert left.to_item() == right.to_item()


EXPECTED = [
    ("INSERT", None, SHIPMENT),
    ("MODIFY", SHIPMENT, DELIVERED),
    ("INSERT", None, CARRIER),
    ("REMOVE", DELIVERED, None),
]


def test_the_records_are_in_the_wire_format_with_base64_binaries(
    stream_records: tuple[list[dict[str, Any]], list[Any]],
) -> None:
    records, _ = stream_records
    image = records[0]["dynamodb"]["NewImage"]
    assert isinstance(image["manifest"]["B"], str)
    assert isinstance(image["parcels"]["L"][0]["M"]["label"]["B"], str)


def test_lambda_shaped_events_decode_to_the_entities_written(
    stream_records: tuple[list[dict[str, Any]], list[Any]],
) -> None:
    records, _ = stream_records
    changes = list(decode_event(table, {"Records": records}))
    assert [(c.event_name, c.old, c.new) for c in changes] == EXPECTED
    for change, (_, old, new) in zip(changes, EXPECTED, strict=True):
        _same(change.old, old)
        _same(change.new, new)


def test_powertools_and_boto3_give_the_same_entities_byte_for_byte(
    stream_records: tuple[list[dict[str, Any]], list[Any]],
) -> None:
    records, parsed = stream_records
    event = DynamoDBStreamEvent({"Records": copy.deepcopy(records)})
    for raw, powertools, boto3_record, (_, old, new) in zip(
        records, event.records, parsed, EXPECTED, strict=True
    ):
        for change in (decode_record(table, powertools), decode_record(table, boto3_record)):
            _same(change.old, old)
            _same(change.new, new)
            assert change.keys == decode_record(table, raw).keys
        body = powertools.dynamodb
        assert body is not None
        if new is not None:
            _same(decode_plain_image(table, body.new_image), new)
        if old is not None:
            _same(decode_plain_image(table, body.old_image), old)


def test_a_ttl_remove_from_the_stream_is_marked_expired(
    stream_records: tuple[list[dict[str, Any]], list[Any]],
) -> None:
    records, _ = stream_records
    remove = copy.deepcopy(records[3])
    assert decode_record(table, remove).expired is False
    remove["userIdentity"] = {"type": "Service", "principalId": TTL_PRINCIPAL}
    change = decode_record(table, remove)
    assert change.expired and change.new is None
    _same(change.old, DELIVERED)
