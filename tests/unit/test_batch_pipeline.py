"""Streamed bulk jobs: planning feeds sending, and every rule of a bulk job still holds.

A repository's ``batch_put`` / ``batch_get`` / ``batch_delete`` plan (encode, key) their
items as requests need them. These tests watch that through a recording provider and
generator inputs, never through timing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tctf_dynamo import GSI, Entity, Repository, Table
from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch._schedule import IN_FLIGHT, Schedule, judge
from tctf_dynamo.core.writes import plan_put, put_item
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, UnprocessedItemsError
from tctf_dynamo.validation import DEFAULT_UNSAFE_VALUE_POLICY
from tests.unit.batch_fakes import (
    Api,
    FakeDynamo,
    api_fixture,  # noqa: F401 (the api fixture)
    batch_sizes,
    item_of,
    key_of,
    make_service,
)

TABLE = Table("things")


class Thing(Entity, table=TABLE, pk="{name}", sk="A"):
    name: str
    colour: str = "red"


def _things(count: int, start: int = 0) -> list[Thing]:
    return [Thing(name=f"t{n:04d}") for n in range(start, start + count)]


def _watching(things: list[Thing], recorder: Any, at: int, seen: list[int]) -> Iterator[Thing]:
    """Yield ``things``; when asked for the one at ``at``, note how many requests left."""
    for position, thing in enumerate(things):
        if position == at:
            seen.append(len(recorder.requests("BatchWriteItem")))
        yield thing


@pytest.mark.parametrize("workers", [1, 4])
def test_the_first_request_leaves_before_planning_ends(workers: int) -> None:
    fake = FakeDynamo()
    service, recorder = make_service(fake, max_workers=workers)
    first_sent = threading.Event()
    if workers > 1:  # the generator waits for the first request: planning cannot be done
        original = fake.hold

        def note(operation: str, requests: list[Any]) -> set[int]:
            first_sent.set()
            return original(operation, requests) if original else set()

        fake.hold = note

    def things() -> Iterator[Thing]:
        for position, thing in enumerate(_things(300)):
            if position == 200 and workers > 1:
                assert first_sent.wait(timeout=30)
            if position == 200:
                seen.append(len(recorder.requests("BatchWriteItem")))
            yield thing

    seen: list[int] = []
    Repository(Thing, service).batch_put(things())
    assert seen and seen[0] >= 1  # requests had left while entity 200 was still unplanned
    assert len(fake.stored()) == 300
    assert sum(batch_sizes(recorder, "BatchWriteItem")) == 300


def test_planning_stays_a_bounded_window_ahead_of_sending() -> None:
    fake = FakeDynamo()
    service, recorder = make_service(fake, max_workers=1)
    seen: list[int] = []
    Repository(Thing, service).batch_put(_watching(_things(500), recorder, 480, seen))
    # with one worker, each request is planned just before it is sent
    assert seen == [480 // 25]


def test_a_bad_entity_after_sending_began_stops_there_and_says_where() -> None:
    fake = FakeDynamo()
    service, _ = make_service(fake, max_workers=1)
    things = _things(100)
    things[60] = Thing(name="t0060", colour="<script>alert(1)</script>")
    with pytest.raises(DynamoDBServiceError) as caught:
        Repository(Thing, service).batch_put(things)
    assert caught.value.details["position"] == 60
    assert caught.value.details["sent_before"] is True
    assert sorted(fake.stored()) == [(f"t{n:04d}", "A") for n in range(60)]


def test_a_bad_entity_before_any_request_means_nothing_is_sent() -> None:
    service, recorder = make_service(FakeDynamo())
    things = [*_things(20), Thing(name="bad", colour="<script>x</script>")]
    with pytest.raises(DynamoDBServiceError) as caught:
        Repository(Thing, service).batch_put(things)
    assert "position" not in caught.value.details
    assert "BatchWriteItem" not in recorder.operations


def test_the_last_put_of_a_key_wins_in_a_stream() -> None:
    fake = FakeDynamo()
    service, recorder = make_service(fake, max_workers=1)
    early = [Thing(name="x", colour="one"), *_things(3), Thing(name="x", colour="two")]
    late = [*_things(40, start=10), Thing(name="x", colour="three")]
    Repository(Thing, service).batch_put([*early, *late])
    assert fake.stored()[("x", "A")]["colour"] == {"S": "three"}
    first = recorder.requests("BatchWriteItem")[0]["RequestItems"]["things"]
    names = [write["PutRequest"]["Item"]["PK"]["S"] for write in first]
    assert names.count("x") == 1  # never two writes of one key in a request


def test_streamed_writes_exhausted_name_exactly_what_is_not_stored() -> None:
    def hold(operation: str, requests: list[Any]) -> set[int]:
        return {
            position
            for position, write in enumerate(requests)
            if write["PutRequest"]["Item"]["PK"]["S"].endswith("7")
        }

    fake = FakeDynamo(hold=hold)
    service, _ = make_service(fake, max_attempts=2)
    with pytest.raises(UnprocessedItemsError) as caught:
        Repository(Thing, service).batch_put(iter(_things(100)))
    left = [request["PutRequest"]["Item"]["PK"]["S"] for _, request in caught.value.unprocessed]
    assert left == [f"t{n:04d}" for n in range(100) if n % 10 == 7]
    assert len(fake.stored()) == 90


def test_streamed_gets_decode_and_keep_key_order() -> None:
    fake = FakeDynamo()
    service, _ = make_service(fake)
    repository = Repository(Thing, service)
    repository.batch_put(_things(150))
    keys = [{"name": f"t{n:04d}"} for n in reversed(range(0, 300, 2))] + [{"name": "t0000"}]
    found = repository.batch_get(iter(keys))
    assert [thing.name if thing else None for thing in found] == [
        key["name"] if int(key["name"][1:]) < 150 else None for key in keys
    ]


def test_an_item_that_does_not_decode_is_its_own_error_not_an_unprocessed_key() -> None:
    fake = FakeDynamo()
    service, _ = make_service(fake)
    repository = Repository(Thing, service)
    repository.batch_put(_things(3))
    fake.items[("things", "t0001", "A")] = {"PK": {"S": "t0001"}, "SK": {"S": "A"}}
    with pytest.raises(DynamoDBServiceError) as caught:
        repository.batch_get([{"name": f"t{n:04d}"} for n in range(3)])
    assert caught.value.code is ErrorCode.INVALID_ITEM


def test_streamed_deletes_of_one_key_are_sent_once() -> None:
    fake = FakeDynamo()
    service, recorder = make_service(fake)
    repository = Repository(Thing, service)
    repository.batch_put(_things(2))
    recorder.clear()
    repository.batch_delete(iter([{"name": "t0000"}, {"name": "t0000"}, {"name": "t0001"}]))
    assert batch_sizes(recorder, "BatchWriteItem") == [2]
    assert fake.stored() == {}


class Note(Entity, table=Table("notes", indexes=[GSI("GSI1")]), pk="N#{note_id}", sk="A",
           gsi1=("OWNER#{owner}", "N#{note_id}"), timestamps=True, version="version"):  # fmt: skip
    note_id: str
    owner: str
    text: str = ""


def test_a_batch_put_stores_what_a_single_put_would() -> None:
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    note = Note(note_id="n1", owner="o1", text="crème brûlée: 2 €", version=3)
    plan = plan_put(note, policy=DEFAULT_UNSAFE_VALUE_POLICY, now=moment)
    written, item = put_item(note, policy=DEFAULT_UNSAFE_VALUE_POLICY, now=moment)
    assert written == plan.written and written.version == 4 and written.updated_at == moment
    assert item == plan.body["Item"] and item["GSI1PK"] == {"S": "OWNER#o1"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("<script>alert(1)</script>", ErrorCode.UNSAFE_VALUE),
        ("x" * 409_600, ErrorCode.ITEM_TOO_LARGE),
    ],
)
def test_a_batch_put_refuses_what_a_single_put_refuses(text: str, code: ErrorCode) -> None:
    note = Note(note_id="n1", owner="o1", text=text)
    for plan in (plan_put, put_item):
        with pytest.raises(DynamoDBServiceError) as caught:
            plan(note, policy=DEFAULT_UNSAFE_VALUE_POLICY)
        assert caught.value.code is code


# ---------------------------------------------------------------- the pure schedule


def _put(index: int, name: str, value: str) -> Entry:
    body = {"PutRequest": {"Item": {"PK": {"S": name}, "v": {"S": value}}}}
    return Entry(index, "t", ("t", name), body, 10)


def test_a_repeat_of_a_key_in_flight_is_held_until_its_request_ends() -> None:
    schedule = Schedule(iter([_put(0, "x", "1"), _put(1, "x", "2")]), max_count=1,
                        max_bytes=100, lookahead=10, dedup=True)  # fmt: skip
    first = schedule.next_chunk()
    assert first is not None and first[0].state == IN_FLIGHT
    schedule.plan(5)
    assert schedule.next_chunk() is None  # the repeat waits: never the older after it
    schedule.settle(judge(first, [], max_attempts=3))
    second = schedule.next_chunk()
    assert second is not None and second[0].body["PutRequest"]["Item"]["v"] == {"S": "2"}
    schedule.settle(judge(second, [], max_attempts=3))
    assert schedule.finish() == [] and schedule.done == 2


def test_a_held_repeat_takes_the_place_of_an_unprocessed_earlier_write() -> None:
    schedule = Schedule(iter([_put(0, "x", "1"), _put(1, "x", "2")]), max_count=1,
                        max_bytes=100, lookahead=10, dedup=True)  # fmt: skip
    first = schedule.next_chunk()
    assert first is not None
    schedule.plan(5)
    schedule.settle(judge(first, first, max_attempts=3))  # handed back unprocessed
    resent = schedule.next_chunk()
    assert resent is not None and resent[0].body["PutRequest"]["Item"]["v"] == {"S": "2"}
    assert schedule.next_chunk() is None  # the older value is never sent again
    schedule.settle(judge(resent, resent, max_attempts=2))  # and given up
    (left,) = schedule.finish()
    assert left.body["PutRequest"]["Item"]["v"] == {"S": "2"}


def _holds(value: Any, target: object) -> bool:
    if value is target:
        return True
    inner = value.values() if isinstance(value, dict) else value
    return isinstance(inner, list | tuple | type({}.values())) and any(
        _holds(element, target) for element in inner
    )


def test_a_written_entry_keeps_whether_it_deleted_but_not_its_item() -> None:
    put = _put(0, "x", "1")
    item = put.body["PutRequest"]["Item"]
    body = {"DeleteRequest": {"Key": {"PK": {"S": "y"}}}}
    delete, repeat = (Entry(index, "t", ("t", "y"), body, 10) for index in (1, 2))
    schedule = Schedule(iter([put, delete, repeat]), max_count=2, max_bytes=100, lookahead=10,
                        dedup=True)  # fmt: skip
    chunk = schedule.next_chunk()
    assert chunk == [put, delete] and _holds(put.body, item)
    schedule.settle(judge(chunk, [], max_attempts=3))
    assert not _holds(put.body, item)  # the item itself can go
    assert schedule.next_chunk() is None  # the repeated delete is still known as one
    assert schedule.finish() == [] and schedule.done == 2


def test_streamed_jobs_send_before_planning_ends_and_read_in_key_order(api: Api) -> None:
    fake = FakeDynamo()
    service, recorder = api.service(fake, max_workers=1)
    seen: list[int] = []

    def items() -> Iterator[dict[str, Any]]:
        for index in range(300):
            if index == 200:
                seen.append(len(recorder.requests("BatchWriteItem")))
            yield item_of(f"p{index:04d}")

    api.streams.stream_writes(service, "things", items())
    assert seen == [200 // 25]  # each request left as soon as its items were planned
    assert len(fake.stored()) == 300
    keys = [key_of(f"p{index:04d}") for index in (299, 5, 5, 400)]
    found = api.streams.stream_gets(service, "things", keys, lambda item: item["PK"]["S"])
    assert found == ["p0299", "p0005", "p0005", None]
