"""What bulk jobs do when DynamoDB holds work back or requests fail for good."""

from __future__ import annotations

from typing import Any

import pytest

from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    RetriesExhaustedError,
    UnprocessedItemsError,
    error_for,
)
from tests.unit.batch_fakes import (
    Api,
    FakeDynamo,
    api_fixture,  # noqa: F401 (the api fixture: each test runs on both APIs)
    batch_sizes,
    item_of,
    key_of,
)

T = "things"


def _pk(write: dict[str, Any]) -> str:
    wire = write["PutRequest"]["Item"] if "PutRequest" in write else write["DeleteRequest"]["Key"]
    return str(wire["PK"]["S"])


def test_unprocessed_work_is_rechunked_with_new_work(api: Api) -> None:
    first_call = [True]

    def hold_three_of_the_first_call(_: str, writes: list) -> set[int]:
        if first_call[0]:
            first_call[0] = False
            return {0, 1, 2}
        return set()

    fake = FakeDynamo(hold=hold_three_of_the_first_call)
    service, recorder = api.service(fake, max_workers=1)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:02d}")) for i in range(50)])
    assert batch_sizes(recorder, "BatchWriteItem") == [25, 25, 3]
    second = recorder.requests("BatchWriteItem")[1]["RequestItems"][T]
    assert [_pk(write) for write in second[:3]] == ["p00", "p01", "p02"]
    assert [_pk(write) for write in second[3:]] == [f"p{i:02d}" for i in range(25, 47)]
    assert len(fake.stored()) == 50


def test_rounds_that_make_progress_never_exhaust_the_budget(api: Api) -> None:
    # like a BatchGetItem response cut at its size limit: one key served per request
    fake = FakeDynamo(hold=lambda _, keys: set(range(1, len(keys))))
    service, recorder = api.service(fake, max_attempts=1)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:02d}")) for i in range(30)], max_workers=1)
    assert len(fake.stored()) == 30
    assert len(recorder.requests("BatchWriteItem")) == 30


def test_gets_survive_responses_cut_short(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake, max_attempts=1)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(150)])
    fake.hold = lambda _, keys: set(range(10, len(keys)))
    found = api.bulk_get(service, T, [key_of(f"p{i:03d}") for i in range(150)])
    assert found == [item_of(f"p{i:03d}") for i in range(150)]


def test_exhausted_writes_name_exactly_what_is_not_stored(api: Api) -> None:
    # everything whose partition key ends in 7 is always held back
    fake = FakeDynamo(
        hold=lambda _, writes: {i for i, w in enumerate(writes) if _pk(w).endswith("7")}
    )
    sleeps: list[float] = []
    service, _ = api.service(fake, max_attempts=2, sleeps=sleeps)
    puts = [(T, item_of(f"p{i:03d}")) for i in range(200)]
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=puts)
    expected = [(T, {"PutRequest": {"Item": item_of(f"p{i:03d}")}}) for i in range(7, 200, 10)]
    assert caught.value.unprocessed == expected
    assert caught.value.details["unprocessed_count"] == 20
    assert caught.value.details["total"] == 200
    assert caught.value.__cause__ is None
    assert len(fake.stored()) == 180
    assert all(delay > 0 for delay in sleeps)


def test_exhausted_gets_name_exactly_the_keys_not_read(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake, max_attempts=2)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(120)])
    fake.hold = lambda _, keys: {i for i, k in enumerate(keys) if k["PK"]["S"] in {"p005", "p110"}}
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_get(service, T, [key_of(f"p{i:03d}") for i in range(120)])
    assert caught.value.unprocessed == [(T, key_of("p005")), (T, key_of("p110"))]


def test_a_request_failing_for_good_reports_its_items_and_the_others_carry_on(api: Api) -> None:
    def throttle_the_chunk_holding_p030(_: str, writes: list) -> DynamoDBServiceError | None:
        if any(_pk(w) == "p030" for w in writes):
            return error_for(ErrorCode.THROTTLED, "throttled")
        return None

    fake = FakeDynamo(fail=throttle_the_chunk_holding_p030)
    service, _ = api.service(fake, max_attempts=3, max_workers=2)
    puts = [(T, item_of(f"p{i:03d}")) for i in range(100)]
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=puts)
    assert caught.value.unprocessed == [
        (T, {"PutRequest": {"Item": item_of(f"p{i:03d}")}}) for i in range(25, 50)
    ]
    assert isinstance(caught.value.__cause__, RetriesExhaustedError)
    assert caught.value.details["cause_code"] == "RETRIES_EXHAUSTED"
    assert len(fake.stored()) == 75


def test_a_non_transient_failure_stops_sending(api: Api) -> None:
    calls = [0]

    def deny_the_second_request(_: str, writes: list) -> DynamoDBServiceError | None:
        calls[0] += 1
        return error_for(ErrorCode.ACCESS_DENIED, "denied") if calls[0] == 2 else None

    fake = FakeDynamo(fail=deny_the_second_request)
    service, recorder = api.service(fake, max_workers=1)
    puts = [(T, item_of(f"p{i:03d}")) for i in range(100)]
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=puts)
    assert len(recorder.requests("BatchWriteItem")) == 2
    assert caught.value.unprocessed == [
        (T, {"PutRequest": {"Item": item_of(f"p{i:03d}")}}) for i in range(25, 100)
    ]
    assert caught.value.__cause__ is not None
    assert caught.value.__cause__.code is ErrorCode.ACCESS_DENIED
    assert len(fake.stored()) == 25


def test_transient_failures_are_retried_by_the_pipeline(api: Api) -> None:
    calls = [0]

    def fail_every_other_call(_: str, writes: list) -> DynamoDBServiceError | None:
        calls[0] += 1
        return error_for(ErrorCode.INTERNAL_ERROR, "boom") if calls[0] % 2 else None

    fake = FakeDynamo(fail=fail_every_other_call)
    service, _ = api.service(fake, max_attempts=2, max_workers=1)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(100)])
    assert len(fake.stored()) == 100
    assert calls[0] == 8


def test_an_unmatched_unprocessed_item_reports_its_whole_request(api: Api) -> None:
    def strange(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "DescribeTable":
            return FakeDynamo()(operation, request)
        return {"UnprocessedItems": {T: [{"PutRequest": {"Item": item_of("stranger")}}]}}

    service, _ = api.service(strange)  # type: ignore[arg-type]
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=[(T, item_of("a")), (T, item_of("b"))])
    # an answer that cannot be read proves nothing either way about its request
    assert len(caught.value.unknown) == 2
    assert caught.value.unprocessed == []
    assert caught.value.details["cause_code"] == "PROVIDER_ERROR"


def _timeout() -> DynamoDBServiceError:
    return error_for(ErrorCode.TIMEOUT, "read timeout", {"exception": "ReadTimeoutError"})


def _puts(*numbers: int) -> list[tuple[str, dict[str, Any]]]:
    return [(T, {"PutRequest": {"Item": item_of(f"p{i:03d}")}}) for i in numbers]


def test_a_request_whose_answers_are_lost_reports_its_writes_unknown_not_unprocessed(
    api: Api,
) -> None:
    def lose_the_chunk_holding_p030(_: str, writes: list) -> DynamoDBServiceError | None:
        return _timeout() if any(_pk(w) == "p030" for w in writes) else None

    fake = FakeDynamo(fail=lose_the_chunk_holding_p030)
    service, _ = api.service(fake, max_attempts=3, max_workers=2)
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(100)])
    error = caught.value
    assert error.unknown == _puts(*range(25, 50))
    assert error.unprocessed == []
    assert error.details["unknown_count"] == 25
    assert error.details["unprocessed_count"] == 0
    assert error.details["cause_code"] == "OUTCOME_UNKNOWN"
    assert "25 may or may not have been" in error.message
    assert error.retryable  # batch puts are unconditional: resending them is safe
    assert len(fake.stored()) == 75  # the other chunks carried on


def test_doubt_and_refusal_are_told_apart_per_request(api: Api) -> None:
    def fail(_: str, writes: list) -> DynamoDBServiceError | None:
        if any(_pk(w) == "p010" for w in writes):
            return _timeout()
        if any(_pk(w) == "p030" for w in writes):
            return error_for(ErrorCode.THROTTLED, "throttled")
        return None

    fake = FakeDynamo(fail=fail)
    service, _ = api.service(fake, max_attempts=2, max_workers=1)
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(75)])
    assert caught.value.unknown == _puts(*range(25))
    assert caught.value.unprocessed == _puts(*range(25, 50))
    assert len(fake.stored()) == 25


def test_work_handed_back_after_a_lost_answer_is_unknown(api: Api) -> None:
    """A resend after a lost answer proves what it processed; what it hands back may have
    been written by the attempt whose answer was lost."""
    calls = [0]

    def lose_the_first_answer(_: str, writes: list) -> DynamoDBServiceError | None:
        calls[0] += 1
        return _timeout() if calls[0] == 1 else None

    fake = FakeDynamo(
        fail=lose_the_first_answer,
        hold=lambda _, writes: {i for i, w in enumerate(writes) if _pk(w) in {"p003", "p007"}},
    )
    service, _ = api.service(fake, max_attempts=2, max_workers=1)
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(10)])
    assert caught.value.unknown == _puts(3, 7)
    assert caught.value.unprocessed == []


def test_work_handed_back_without_doubt_is_unprocessed(api: Api) -> None:
    fake = FakeDynamo(hold=lambda _, writes: {i for i, w in enumerate(writes) if _pk(w) == "p003"})
    service, _ = api.service(fake, max_attempts=2, max_workers=1)
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(10)])
    assert caught.value.unprocessed == _puts(3)
    assert caught.value.unknown == []


def test_an_entry_in_doubt_confirmed_by_a_resend_is_done(api: Api) -> None:
    calls = [0]

    def lose_the_first_answer(_: str, writes: list) -> DynamoDBServiceError | None:
        calls[0] += 1
        return _timeout() if calls[0] == 1 else None

    held = [True]

    def hold_p003_once(_: str, writes: list) -> set[int]:
        if held[0]:
            held[0] = False
            return {i for i, w in enumerate(writes) if _pk(w) == "p003"}
        return set()

    fake = FakeDynamo(fail=lose_the_first_answer, hold=hold_p003_once)
    service, _ = api.service(fake, max_attempts=2, max_workers=1)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(10)])
    assert len(fake.stored()) == 10


def test_gets_whose_answers_are_lost_are_not_read_never_unknown(api: Api) -> None:
    fake = FakeDynamo()
    service, _ = api.service(fake, max_attempts=2)
    api.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(120)])
    fake.fail = lambda _, keys: _timeout() if any(k["PK"]["S"] == "p110" for k in keys) else None
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_get(service, T, [key_of(f"p{i:03d}") for i in range(120)])
    assert caught.value.unprocessed == [(T, key_of(f"p{i:03d}")) for i in range(100, 120)]
    assert caught.value.unknown == []
    assert caught.value.details["cause_code"] == "RETRIES_EXHAUSTED"


@pytest.mark.parametrize("workers", [1, 3])
def test_an_interrupted_blocking_bulk_write_carries_the_report_of_what_it_left(
    workers: int,
) -> None:
    """KeyboardInterrupt while the second request is on its way (it arrived): the
    interruption goes on, carrying the report a failed job raises: that request's writes
    unknown, what is not stored unprocessed, everything else applied. With threads, the
    requests out at the time are waited for and what they answered counts."""
    from tctf_dynamo import DynamoDBService, MockProvider, batch

    fake = FakeDynamo()
    writes = [0]
    lost: list[str] = []

    def handle(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response = fake(operation, request)
        if operation == "BatchWriteItem":
            with fake.lock:
                writes[0] += 1
                interrupt = writes[0] == 2
            if interrupt:
                lost.extend(_pk(write) for write in request["RequestItems"][T])
                raise KeyboardInterrupt
        return response

    service = DynamoDBService(MockProvider(handle), max_workers=workers, sleep=lambda _s: None)
    with pytest.raises(KeyboardInterrupt) as caught:
        batch.bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(100)])
    report = caught.value.__cause__
    assert isinstance(report, UnprocessedItemsError)
    assert sorted(_pk(write) for _, write in report.unknown) == sorted(lost)
    assert len(lost) == 25
    stored = {pk for pk, _ in fake.stored()}
    unprocessed = {_pk(write) for _, write in report.unprocessed}
    assert not unprocessed & stored  # not applied is never stored
    assert len(stored) + len(unprocessed) == 100  # nothing applied is left unreported
