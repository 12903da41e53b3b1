"""batch_get / batch_write: one request, DynamoDB's limits enforced before sending."""

from __future__ import annotations

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, InvalidInputError, UnprocessedItemsError
from tests.unit.batch_fakes import (
    Api,
    FakeDynamo,
    api_fixture,  # noqa: F401 (the api fixture: each test runs on both APIs)
    batch_sizes,
    item_of,
    key_of,
)

T = "things"


def test_batch_write_of_26_is_refused_before_anything_is_sent(api: Api) -> None:
    service, recorder = api.service(FakeDynamo())
    puts = [(T, item_of(f"p{i}")) for i in range(20)]
    deletes = [(T, key_of(f"d{i}")) for i in range(limits.MAX_BATCH_WRITE_ITEMS + 1 - 20)]
    with pytest.raises(InvalidInputError) as caught:
        api.batch_write(service, puts=puts, deletes=deletes)
    assert caught.value.code is ErrorCode.BATCH_SIZE_EXCEEDED
    assert caught.value.details["count"] == 26
    assert recorder.operations == []


def test_batch_get_of_101_is_refused_before_anything_is_sent(api: Api) -> None:
    service, recorder = api.service(FakeDynamo())
    keys = [key_of(f"k{i}") for i in range(limits.MAX_BATCH_GET_KEYS + 1)]
    with pytest.raises(InvalidInputError) as caught:
        api.batch_get(service, T, keys)
    assert caught.value.code is ErrorCode.BATCH_SIZE_EXCEEDED
    assert recorder.operations == []


def test_batch_write_of_25_is_one_request(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake)
    api.batch_write(service, puts=[(T, item_of(f"p{i}")) for i in range(25)])
    assert batch_sizes(recorder, "BatchWriteItem") == [25]
    assert len(fake.stored()) == 25


def test_batch_get_returns_items_in_key_order_with_none_for_missing(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake)
    api.batch_write(service, puts=[(T, item_of("a", body="1")), (T, item_of("c", body="3"))])
    found = api.batch_get(service, T, [key_of("c"), key_of("b"), key_of("a")])
    assert found == [item_of("c", body="3"), None, item_of("a", body="1")]


@pytest.mark.parametrize(
    "puts, deletes",
    [
        ([item_of("x", body="1"), item_of("x", body="2")], []),
        ([item_of("x")], [key_of("x")]),
        ([], [key_of("x"), key_of("x")]),
    ],
)
def test_two_writes_to_one_key_are_refused(api: Api, puts: list, deletes: list) -> None:
    service, recorder = api.service(FakeDynamo())
    with pytest.raises(InvalidInputError) as caught:
        api.batch_write(service, puts=[(T, p) for p in puts], deletes=[(T, d) for d in deletes])
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    assert "BatchWriteItem" not in recorder.operations


def test_one_key_asked_twice_is_refused(api: Api) -> None:
    service, recorder = api.service(FakeDynamo())
    with pytest.raises(InvalidInputError) as caught:
        api.batch_get(service, T, [key_of("x"), key_of("y"), key_of("x")])
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    assert caught.value.details == {
        "operation": "BatchGetItem",
        "table": T,
        "index": 2,
        "first_index": 0,
    }
    assert "BatchGetItem" not in recorder.operations


def test_batch_write_over_16_mb_is_refused(api: Api) -> None:
    # Only reachable with items over the item limit, which validation refuses first, so
    # the byte check is exercised by the oversized item raising ITEM_TOO_LARGE instead.
    service, recorder = api.service(FakeDynamo())
    big = item_of("x", body="a" * (limits.MAX_ITEM_SIZE_BYTES + 1))
    with pytest.raises(InvalidInputError) as caught:
        api.batch_write(service, puts=[(T, big)])
    assert caught.value.code is ErrorCode.ITEM_TOO_LARGE
    assert "BatchWriteItem" not in recorder.operations


def test_empty_batches_send_nothing(api: Api) -> None:
    service, recorder = api.service(FakeDynamo())
    api.batch_write(service)
    assert api.batch_get(service, T, []) == []
    assert "BatchWriteItem" not in recorder.operations
    assert "BatchGetItem" not in recorder.operations


def test_unprocessed_items_are_resent_alone_after_backoff(api: Api) -> None:
    calls: list[int] = []

    def hold_first_two_once(_: str, writes: list) -> set[int]:
        calls.append(len(writes))
        return {0, 1} if len(calls) == 1 else set()

    fake = FakeDynamo(hold=hold_first_two_once)
    sleeps: list[float] = []
    service, recorder = api.service(fake, sleeps=sleeps)
    api.batch_write(service, puts=[(T, item_of(f"p{i}")) for i in range(5)])
    assert batch_sizes(recorder, "BatchWriteItem") == [5, 2]
    resent = recorder.requests("BatchWriteItem")[1]["RequestItems"][T]
    assert resent == [
        {"PutRequest": {"Item": item_of("p0")}},
        {"PutRequest": {"Item": item_of("p1")}},
    ]
    assert sleeps == [pytest.approx(0.1)]
    assert len(fake.stored()) == 5


def test_unprocessed_keys_are_resent_with_their_settings(api: Api) -> None:
    calls: list[int] = []

    def hold_last_once(operation: str, keys: list) -> set[int]:
        if operation != "BatchGetItem":
            return set()
        calls.append(len(keys))
        return {len(keys) - 1} if len(calls) == 1 else set()

    fake = FakeDynamo(hold=hold_last_once)
    service, recorder = api.service(fake)
    api.batch_write(service, puts=[(T, item_of(f"p{i}")) for i in range(3)])
    found = api.batch_get(service, T, [key_of(f"p{i}") for i in range(3)], consistent=True)
    assert found == [item_of(f"p{i}") for i in range(3)]
    second = recorder.requests("BatchGetItem")[1]["RequestItems"][T]
    assert second == {"Keys": [key_of("p2")], "ConsistentRead": True}


def test_batch_write_exhaustion_names_exactly_the_items_not_written(api: Api) -> None:
    fake = FakeDynamo(hold=lambda _, writes: {0})
    sleeps: list[float] = []
    service, recorder = api.service(fake, max_attempts=3, sleeps=sleeps)
    with pytest.raises(UnprocessedItemsError) as caught:
        api.batch_write(service, puts=[(T, item_of("a")), (T, item_of("b"))])
    # first call: "a" held, "b" written (progress, no strike); then "a" alone, held 3 times
    assert batch_sizes(recorder, "BatchWriteItem") == [2, 1, 1, 1]
    assert caught.value.unprocessed == [(T, {"PutRequest": {"Item": item_of("a")}})]
    assert caught.value.code is ErrorCode.UNPROCESSED_ITEMS
    assert set(fake.stored()) == {("b", "A")}
    assert sleeps == [pytest.approx(0.1), pytest.approx(0.1), pytest.approx(0.2)]
