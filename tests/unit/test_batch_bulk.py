"""bulk_get / bulk_write: any number of keys and writes, validated first, chunked, parallel."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tctf_dynamo import Projection, limits
from tctf_dynamo.batch import (
    write_arguments,
)
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tests.unit.batch_fakes import (
    Api,
    FakeDynamo,
    api_fixture,  # noqa: F401 (the api fixture: each test runs on both APIs)
    batch_sizes,
    item_of,
    key_of,
)

T = "things"


def test_bulk_write_splits_into_requests_of_at_most_25(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:04d}")) for i in range(1001)])
    sizes = batch_sizes(recorder, "BatchWriteItem")
    assert max(sizes) == limits.MAX_BATCH_WRITE_ITEMS
    assert sum(sizes) == 1001
    assert len(sizes) == 41
    assert len(fake.stored()) == 1001


def test_bulk_get_splits_into_requests_of_at_most_100_and_keeps_key_order(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:04d}")) for i in range(0, 1050, 2)])
    recorder.clear()
    keys = [key_of(f"p{i:04d}") for i in reversed(range(1050))]
    found = api.bulk_get(service, T, keys)
    sizes = batch_sizes(recorder, "BatchGetItem")
    assert max(sizes) == limits.MAX_BATCH_GET_KEYS
    assert sum(sizes) == 1050
    expected = [item_of(f"p{i:04d}") if i % 2 == 0 else None for i in reversed(range(1050))]
    assert found == expected


def test_of_several_puts_of_one_key_the_last_wins(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    puts = [(T, item_of("x", v="1")), (T, item_of("y", v="1")), (T, item_of("x", v="2"))]
    puts += [(T, item_of("x", v="3"))]
    api.bulk_write(service, puts=puts)
    assert batch_sizes(recorder, "BatchWriteItem") == [2]
    assert fake.stored() == {("x", "A"): item_of("x", v="3"), ("y", "A"): item_of("y", v="1")}


def test_repeated_deletes_of_one_key_are_sent_once(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.bulk_write(service, deletes=[(T, key_of("x")), (T, key_of("x")), (T, key_of("y"))])
    assert batch_sizes(recorder, "BatchWriteItem") == [2]


def test_a_key_both_put_and_deleted_is_refused_before_sending(api: Api) -> None:
    service, recorder = api.service(FakeDynamo())
    with pytest.raises(InvalidInputError) as caught:
        api.bulk_write(service, puts=[(T, item_of("x"))], deletes=[(T, key_of("x"))])
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    assert "BatchWriteItem" not in recorder.operations


def test_a_key_asked_twice_is_read_once_and_returned_twice(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.bulk_write(service, puts=[(T, item_of("x"))])
    found = api.bulk_get(service, T, [key_of("x"), key_of("nope"), key_of("x")])
    assert found == [item_of("x"), None, item_of("x")]
    assert batch_sizes(recorder, "BatchGetItem") == [2]


@pytest.mark.parametrize(
    "bad",
    [
        {"PK": {"S": "x"}},  # no sort key
        item_of("x", big="a" * limits.MAX_ITEM_SIZE_BYTES),
        {**item_of("x"), "SK": {"N": "1"}},
        item_of("x", html="<script>alert(1)</script>"),
    ],
)
def test_one_invalid_item_anywhere_means_nothing_is_sent(api: Api, bad: dict[str, Any]) -> None:
    service, recorder = api.service(FakeDynamo())
    puts = [(T, item_of(f"p{i}")) for i in range(100)] + [(T, bad)]
    with pytest.raises(InvalidInputError):
        api.bulk_write(service, puts=puts)
    assert "BatchWriteItem" not in recorder.operations


def test_one_invalid_key_anywhere_means_nothing_is_read(api: Api) -> None:
    service, recorder = api.service(FakeDynamo())
    keys = [key_of(f"p{i}") for i in range(300)] + [{"PK": {"S": ""}, "SK": {"S": "A"}}]
    with pytest.raises(InvalidInputError) as caught:
        api.bulk_get(service, T, keys)
    assert caught.value.code is ErrorCode.INVALID_KEY
    assert "BatchGetItem" not in recorder.operations


def test_requests_run_in_parallel_but_never_beyond_max_workers(api: Api) -> None:
    fake = FakeDynamo()
    fake.barrier = threading.Barrier(3)  # breaks (and fails the test) unless 3 run at once
    service, _ = api.service(fake, max_workers=3)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(75)])
    assert fake.max_in_flight == 3
    assert len(fake.stored()) == 75


def test_max_workers_one_sends_requests_one_after_another(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake, max_workers=8)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(200)], max_workers=1)
    assert fake.max_in_flight == 1


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_max_workers_must_be_a_positive_integer(api: Api, workers: Any) -> None:
    service, recorder = api.service(FakeDynamo())
    with pytest.raises(InvalidInputError) as caught:
        api.bulk_write(service, puts=[(T, item_of("x"))], max_workers=workers)
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    assert recorder.operations == []


def test_progress_is_reported_from_zero_to_total(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake)
    seen: list[tuple[int, int]] = []
    caller = threading.get_ident()
    threads: set[int] = set()

    def on_progress(done: int, total: int) -> None:
        threads.add(threading.get_ident())
        seen.append((done, total))

    puts = [(T, item_of(f"p{i:03d}")) for i in range(110)] + [(T, item_of("p000"))]
    api.bulk_write(service, puts=puts, on_progress=on_progress)
    assert seen[0] == (0, 110)
    assert seen[-1] == (110, 110)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) == 1 + 5  # the start, then one per request
    assert threads == {caller}


def test_projection_always_reads_the_key_attributes(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.bulk_get(service, T, [key_of("x")], projection=Projection("colour"), consistent=True)
    (request,) = recorder.requests("BatchGetItem")
    spec = request["RequestItems"][T]
    names = spec["ExpressionAttributeNames"]
    projected = {names[part.strip()] for part in spec["ProjectionExpression"].split(",")}
    assert projected == {"colour", "PK", "SK"}
    assert spec["ConsistentRead"] is True


def test_writes_to_several_tables_share_requests(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.bulk_write(
        service,
        puts=[("first", item_of("x")), ("second", item_of("x"))],
        deletes=[("first", key_of("y"))],
    )
    (request,) = recorder.requests("BatchWriteItem")
    assert sorted(request["RequestItems"]) == ["first", "second"]
    assert set(fake.stored("first")) == {("x", "A")}
    assert set(fake.stored("second")) == {("x", "A")}


def test_plain_value_variants_encode_and_decode(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake)
    api.bulk_write_items(service, T, puts=[{"PK": "a", "SK": "A", "n": 3}, {"PK": "b", "SK": "A"}])
    api.bulk_write_items(service, T, deletes=[{"PK": "b", "SK": "A"}])
    found = api.bulk_get_items(service, T, [{"PK": "a", "SK": "A"}, {"PK": "b", "SK": "A"}])
    assert found == [{"PK": "a", "SK": "A", "n": 3}, None]


def test_write_arguments_turn_unprocessed_writes_back_into_arguments() -> None:
    unprocessed = [
        (T, {"PutRequest": {"Item": item_of("x")}}),
        (T, {"DeleteRequest": {"Key": key_of("y")}}),
    ]
    assert write_arguments(unprocessed) == {
        "puts": [(T, item_of("x"))],
        "deletes": [(T, key_of("y"))],
    }


def test_numeric_keys_equal_to_dynamodb_are_one_key(api: Api) -> None:
    class NumericFake(FakeDynamo):
        def __call__(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            if operation == "DescribeTable":
                return {
                    "Table": {
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
                    }
                }
            self.sent = request
            return {"UnprocessedItems": {}}

    fake = NumericFake()
    service, _ = api.service(fake)
    api.bulk_write(
        service,
        puts=[(T, {"id": {"N": "1"}, "v": {"S": "a"}}), (T, {"id": {"N": "1.0"}, "v": {"S": "b"}})],
    )
    assert fake.sent["RequestItems"][T] == [
        {"PutRequest": {"Item": {"id": {"N": "1.0"}, "v": {"S": "b"}}}}
    ]


def test_validate_false_trusts_items_validated_already(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake)
    html = item_of("x", page="<script>kept on purpose</script>")
    api.bulk_write(service, puts=[(T, html)], validate=False)
    assert fake.stored() == {("x", "A"): html}
    assert api.bulk_get(service, T, [key_of("x")], validate=False) == [html]
