"""Chunking loses nothing, duplicates nothing and respects every limit; bulk writes land
exactly once whatever DynamoDB holds back."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo import limits
from tctf_dynamo.batch import bulk_get, bulk_write
from tctf_dynamo.batch.chunking import split_into_chunks
from tests.unit.batch_fakes import FakeDynamo, batch_sizes, item_of, key_of, make_service

T = "things"


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=1_000), max_size=200),
    max_count=st.integers(min_value=1, max_value=30),
    max_bytes=st.integers(min_value=1, max_value=3_000),
)
def test_chunks_hold_every_value_once_in_order_within_both_limits(
    sizes: list[int], max_count: int, max_bytes: int
) -> None:
    values = list(enumerate(sizes))
    chunks = split_into_chunks(values, lambda value: value[1], max_count, max_bytes)
    assert [value for chunk in chunks for value in chunk] == values
    for chunk in chunks:
        assert 1 <= len(chunk) <= max_count
        assert sum(size for _, size in chunk) <= max_bytes or len(chunk) == 1


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=limits.MAX_ITEM_SIZE_BYTES), max_size=80))
def test_real_limits_hold_for_items_within_the_item_limit(sizes: list[int]) -> None:
    chunks = split_into_chunks(
        sizes, lambda size: size, limits.MAX_BATCH_WRITE_ITEMS, limits.MAX_BATCH_WRITE_BYTES
    )
    assert sum(len(chunk) for chunk in chunks) == len(sizes)
    for chunk in chunks:
        assert len(chunk) <= limits.MAX_BATCH_WRITE_ITEMS
        assert sum(chunk) <= limits.MAX_BATCH_WRITE_BYTES


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(st.integers(min_value=0, max_value=80), max_size=150),
    seed=st.integers(min_value=0, max_value=2**32),
    workers=st.integers(min_value=1, max_value=4),
)
def test_bulk_writes_land_exactly_once_whatever_is_held_back(
    keys: list[int], seed: int, workers: int
) -> None:
    chooser = random.Random(seed)

    def hold_some(_: str, writes: list) -> set[int]:
        return {i for i in range(len(writes)) if chooser.random() < 0.3}

    fake = FakeDynamo(hold=hold_some)
    service, recorder = make_service(fake, max_attempts=100, max_workers=workers)
    puts = [(T, item_of(f"k{key}", position=str(position))) for position, key in enumerate(keys)]
    bulk_write(service, puts=puts)
    last_position = {key: position for position, key in enumerate(keys)}
    assert fake.stored() == {
        (f"k{key}", "A"): item_of(f"k{key}", position=str(position))
        for key, position in last_position.items()
    }
    sent = Counter(
        write["PutRequest"]["Item"]["PK"]["S"]
        for request in recorder.requests("BatchWriteItem")
        for write in request["RequestItems"][T]
    )
    assert set(sent) == {f"k{key}" for key in keys}
    assert all(
        size <= limits.MAX_BATCH_WRITE_ITEMS for size in batch_sizes(recorder, "BatchWriteItem")
    )


@settings(max_examples=40, deadline=None)
@given(
    stored=st.sets(st.integers(min_value=0, max_value=300), max_size=150),
    asked=st.lists(st.integers(min_value=0, max_value=300), max_size=250),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_bulk_get_returns_every_position_whatever_is_held_back(
    stored: set[int], asked: list[int], seed: int
) -> None:
    fake = FakeDynamo()
    service, recorder = make_service(fake, max_attempts=100)
    bulk_write(service, puts=[(T, item_of(f"k{key}")) for key in stored])
    chooser = random.Random(seed)
    fake.hold = lambda _, keys: {i for i in range(len(keys)) if chooser.random() < 0.3}
    recorder.clear()
    found = bulk_get(service, T, [key_of(f"k{key}") for key in asked])
    assert found == [item_of(f"k{key}") if key in stored else None for key in asked]
    assert all(size <= limits.MAX_BATCH_GET_KEYS for size in batch_sizes(recorder, "BatchGetItem"))
