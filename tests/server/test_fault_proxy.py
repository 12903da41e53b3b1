"""The fault proxy does on the wire what each fault says, and keeps DynamoDB's token rules.

A raw boto3 client (botocore retries off, short read timeouts) talks to moto server
through the proxy; the truth is read from moto directly, past the proxy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from tctf_dynamo import DynamoDBService
from tctf_dynamo.model import Table
from tests.faultproxy import (
    ERROR_500,
    ERROR_500_AFTER,
    ERROR_503,
    ERROR_503_AFTER,
    HANG_AFTER,
    RESET_AFTER,
    RESET_BEFORE,
    THROTTLE,
    THROTTLING,
    UNPROCESSED,
    Fault,
    FaultKind,
    FaultProxy,
    Outcome,
    ProxyMode,
    RandomPlan,
    RequestInfo,
)

pytestmark = pytest.mark.server

TIMEOUT = 0.4
"""Client read timeout of these tests; every hold below is longer."""
HOLD = 1.0
SETTLE = 10.0
"""Bound for waiting until held requests have finished (never reached when healthy)."""


def client(endpoint: str, *, read_timeout: float = TIMEOUT) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"total_max_attempts": 1}, read_timeout=read_timeout, connect_timeout=1
        ),
    )


@pytest.fixture
def direct(moto_endpoint: str, table_name: str) -> Iterator[Any]:
    """A client straight to moto (the truth), with a fresh table."""
    raw = client(moto_endpoint, read_timeout=10)
    raw.create_table(**Table(table_name).create_table_request())
    yield raw
    raw.delete_table(TableName=table_name)


@pytest.fixture
def via(fault_proxy: FaultProxy, direct: Any) -> Any:
    """A client through the proxy (the table exists)."""
    return client(fault_proxy.endpoint)


def key(name: str) -> dict[str, Any]:
    return {"PK": {"S": name}, "SK": {"S": "x"}}


def put(api: Any, table: str, name: str) -> None:
    api.put_item(TableName=table, Item={**key(name), "v": {"S": "1"}})


def stored(direct: Any, table: str, name: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = direct.get_item(TableName=table, Key=key(name)).get("Item")
    return item


def counter(direct: Any, table: str, name: str) -> int:
    item = stored(direct, table, name)
    return int(item["n"]["N"]) if item else 0


def add_one(table: str, name: str, token: str, **extra: Any) -> dict[str, Any]:
    """A TransactWriteItems request that is not idempotent without its token."""
    update = {
        "TableName": table,
        "Key": key(name),
        "UpdateExpression": "ADD #n :one",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        **extra,
    }
    return {"TransactItems": [{"Update": update}], "ClientRequestToken": token}


def test_pass_forwards_and_counts(via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str):
    put(via, table_name, "a")
    put(via, table_name, "b")
    assert stored(direct, table_name, "a") is not None
    stats = fault_proxy.stats("PutItem")
    assert (stats.arrived, stats.forwarded, stats.faults) == (2, 2, {})
    assert [r.sequence for r in fault_proxy.records("PutItem")] == [1, 2]
    assert {r.outcome for r in fault_proxy.records()} == {Outcome.UPSTREAM}


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        (THROTTLE, "ProvisionedThroughputExceededException", 400),
        (THROTTLING, "ThrottlingException", 400),
        (ERROR_500, "InternalServerError", 500),
        (ERROR_503, "ServiceUnavailable", 503),
    ],
)
def test_errors_before_forwarding_apply_nothing(
    via: Any,
    direct: Any,
    fault_proxy: FaultProxy,
    table_name: str,
    fault: Fault,
    code: str,
    status: int,
):
    fault_proxy.fail_next("PutItem", fault)
    with pytest.raises(ClientError) as raised:
        put(via, table_name, "a")
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert stored(direct, table_name, "a") is None
    stats = fault_proxy.stats("PutItem")
    assert (stats.arrived, stats.forwarded, stats.faults) == (1, 0, {fault.kind: 1})
    put(via, table_name, "a")  # only the next request met it
    assert stored(direct, table_name, "a") is not None


@pytest.mark.parametrize(
    ("fault", "code"),
    [(ERROR_500_AFTER, "InternalServerError"), (ERROR_503_AFTER, "ServiceUnavailable")],
)
def test_errors_after_forwarding_hide_an_applied_write(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str, fault: Fault, code: str
):
    fault_proxy.fail_next("PutItem", fault)
    with pytest.raises(ClientError) as raised:
        put(via, table_name, "a")
    assert raised.value.response["Error"]["Code"] == code
    assert stored(direct, table_name, "a") is not None
    assert fault_proxy.stats("PutItem").forwarded == 1


def test_reset_before_forwarding_reaches_nothing(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    put(via, table_name, "warm")  # the next request travels on a kept-alive connection
    fault_proxy.fail_next("PutItem", RESET_BEFORE)
    with pytest.raises(BotoCoreError):
        put(via, table_name, "a")
    assert stored(direct, table_name, "a") is None
    assert fault_proxy.stats("PutItem").forwarded == 1
    assert fault_proxy.records("PutItem")[-1].outcome is Outcome.NO_ANSWER


@pytest.mark.parametrize("fault", [RESET_AFTER, HANG_AFTER])
def test_answer_lost_after_forwarding_hides_an_applied_write(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str, fault: Fault
):
    fault_proxy.fail_next("PutItem", fault)
    with pytest.raises(BotoCoreError):
        put(via, table_name, "a")
    assert stored(direct, table_name, "a") is not None
    assert fault_proxy.stats("PutItem").forwarded == 1
    assert fault_proxy.wait_idle(SETTLE)  # a hung answer ends when the client goes away
    assert fault_proxy.records("PutItem")[-1].outcome is Outcome.NO_ANSWER


def test_delay_before_is_a_slow_commit(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.fail_next("PutItem", Fault.delay_before(HOLD))
    with pytest.raises(ReadTimeoutError):
        put(via, table_name, "a")
    assert fault_proxy.wait_idle(SETTLE)
    assert stored(direct, table_name, "a") is not None  # committed after the client gave up
    record = fault_proxy.records("PutItem")[-1]
    assert (record.forwarded, record.outcome) == (True, Outcome.UPSTREAM)


def test_delay_after_forwards_first_then_holds_the_answer(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.fail_next("PutItem", Fault.delay_after(HOLD))
    with pytest.raises(ReadTimeoutError):
        put(via, table_name, "a")
    assert fault_proxy.stats("PutItem").forwarded == 1
    assert stored(direct, table_name, "a") is not None
    assert fault_proxy.wait_idle(SETTLE)  # the held answer ends first: records stay in order
    patient = client(fault_proxy.endpoint, read_timeout=SETTLE)
    fault_proxy.fail_next("PutItem", Fault.delay_after(0.05))
    put(patient, table_name, "b")
    assert fault_proxy.records("PutItem")[-1].outcome is Outcome.UPSTREAM


def test_unprocessed_applies_a_batchs_first_entry_and_returns_the_others(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    names = ["a", "b", "c"]
    writes = [{"PutRequest": {"Item": {**key(name), "v": {"S": "1"}}}} for name in names]
    fault_proxy.fail_next("BatchWriteItem", UNPROCESSED)
    answer = via.batch_write_item(RequestItems={table_name: writes})
    assert answer["UnprocessedItems"] == {table_name: writes[1:]}
    assert [stored(direct, table_name, name) is not None for name in names] == [True, False, False]
    fault_proxy.fail_next("BatchGetItem", UNPROCESSED)
    keys = [key(name) for name in names]
    request = {table_name: {"Keys": keys, "ConsistentRead": True}}
    answer = via.batch_get_item(RequestItems=request)
    assert answer["UnprocessedKeys"] == {table_name: {"Keys": keys[1:], "ConsistentRead": True}}
    assert [item["PK"] for item in answer["Responses"][table_name]] == [keys[0]["PK"]]
    assert fault_proxy.stats("BatchWriteItem").faults == {FaultKind.UNPROCESSED: 1}
    fault_proxy.fail_next("PutItem", UNPROCESSED)  # not a batch: forwarded untouched
    put(via, table_name, "d")
    assert stored(direct, table_name, "d") is not None


def test_token_replay_returns_the_first_answer_without_applying_again(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    first = via.transact_write_items(**add_one(table_name, "a", "tok-1"))
    again = via.transact_write_items(**add_one(table_name, "a", "tok-1"))
    assert counter(direct, table_name, "a") == 1
    assert again["ResponseMetadata"]["RequestId"] == first["ResponseMetadata"]["RequestId"]
    stats = fault_proxy.stats("TransactWriteItems")
    assert (stats.arrived, stats.forwarded, stats.replayed) == (2, 1, 1)


def test_token_requests_compare_as_json_not_as_text(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    names = {"#n": "n", "#m": "m"}
    values = {":one": {"N": "1"}, ":two": {"N": "2"}}
    expression = {"UpdateExpression": "ADD #n :one, #m :two"}
    via.transact_write_items(
        **add_one(
            table_name,
            "a",
            "tok",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **expression,
        )
    )
    reordered = {
        "ExpressionAttributeValues": dict(reversed(values.items())),
        "ExpressionAttributeNames": dict(reversed(names.items())),
    }
    via.transact_write_items(**add_one(table_name, "a", "tok", **reordered, **expression))
    assert counter(direct, table_name, "a") == 1
    assert fault_proxy.stats("TransactWriteItems").replayed == 1


def test_same_token_other_request_is_a_mismatch(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    via.transact_write_items(**add_one(table_name, "a", "tok"))
    with pytest.raises(ClientError) as raised:
        via.transact_write_items(**add_one(table_name, "b", "tok"))
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert stored(direct, table_name, "b") is None
    assert fault_proxy.stats("TransactWriteItems").forwarded == 1


def test_same_token_while_the_first_is_held_is_in_progress(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.fail_next("TransactWriteItems", Fault.delay_before(HOLD))
    with pytest.raises(ReadTimeoutError):
        via.transact_write_items(**add_one(table_name, "a", "tok"))
    with pytest.raises(ClientError) as raised:
        via.transact_write_items(**add_one(table_name, "a", "tok"))
    assert raised.value.response["Error"]["Code"] == "TransactionInProgressException"
    assert fault_proxy.wait_idle(SETTLE)
    via.transact_write_items(**add_one(table_name, "a", "tok"))  # the held one's answer
    assert counter(direct, table_name, "a") == 1
    stats = fault_proxy.stats("TransactWriteItems")
    assert (stats.forwarded, stats.in_progress, stats.replayed) == (1, 1, 1)


def test_a_fault_after_forwarding_still_pins_the_token(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.fail_next("TransactWriteItems", ERROR_500_AFTER)
    with pytest.raises(ClientError):
        via.transact_write_items(**add_one(table_name, "a", "tok"))
    via.transact_write_items(**add_one(table_name, "a", "tok"))
    assert counter(direct, table_name, "a") == 1
    assert fault_proxy.stats("TransactWriteItems").forwarded == 1


def test_a_failed_first_request_does_not_pin_its_token(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    guarded = add_one(table_name, "a", "tok")
    guarded["TransactItems"][0]["Update"]["ConditionExpression"] = "attribute_exists(PK)"
    with pytest.raises(ClientError) as raised:
        via.transact_write_items(**guarded)
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    put(direct, table_name, "a")
    via.transact_write_items(**guarded)
    assert counter(direct, table_name, "a") == 1
    assert fault_proxy.stats("TransactWriteItems").forwarded == 2


def test_a_token_expires_after_its_window(moto_endpoint: str, direct: Any, table_name: str):
    now = [0.0]
    with FaultProxy(moto_endpoint, token_window_seconds=600.0, clock=lambda: now[0]) as proxy:
        via = client(proxy.endpoint)
        via.transact_write_items(**add_one(table_name, "a", "tok"))
        now[0] = 599.0
        via.transact_write_items(**add_one(table_name, "a", "tok"))
        assert counter(direct, table_name, "a") == 1
        now[0] = 1200.0
        via.transact_write_items(**add_one(table_name, "a", "tok"))
        assert counter(direct, table_name, "a") == 2
        assert proxy.stats("TransactWriteItems").forwarded == 2


def test_hang_mode_times_out_until_the_mode_changes(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.set_mode(ProxyMode.HANG)
    with pytest.raises(ReadTimeoutError):
        put(via, table_name, "a")
    fault_proxy.set_mode(ProxyMode.PASS)
    assert stored(direct, table_name, "a") is None
    put(via, table_name, "b")
    stats = fault_proxy.stats("PutItem")
    assert (stats.arrived, stats.forwarded, stats.hung) == (2, 1, 1)


def test_stop_releases_a_hung_client(moto_endpoint: str, direct: Any, table_name: str):
    proxy = FaultProxy(moto_endpoint).start()
    proxy.set_mode(ProxyMode.HANG)
    waiting = client(proxy.endpoint, read_timeout=60)
    failures: list[BaseException] = []

    def call() -> None:
        try:
            put(waiting, table_name, "a")
        except BaseException as error:
            failures.append(error)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    while proxy.stats("PutItem").hung == 0 and caller.is_alive():
        caller.join(0.01)
    proxy.stop()
    caller.join(SETTLE)
    assert not caller.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], BotoCoreError)
    assert stored(direct, table_name, "a") is None


def test_unavailable_mode_answers_503_to_everything(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.set_mode(ProxyMode.UNAVAILABLE)
    for call in (lambda: put(via, table_name, "a"), lambda: via.list_tables()):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert stored(direct, table_name, "a") is None
    assert fault_proxy.stats("PutItem").unavailable == 1
    assert fault_proxy.stats("ListTables").forwarded == 0


def test_slow_mode_delays_every_request(
    via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str
):
    fault_proxy.set_mode(ProxyMode.SLOW, seconds=HOLD)
    with pytest.raises(ReadTimeoutError):
        put(via, table_name, "a")
    fault_proxy.set_mode(ProxyMode.PASS)
    assert fault_proxy.wait_idle(SETTLE)
    assert stored(direct, table_name, "a") is not None


def test_a_rule_sees_each_request(via: Any, direct: Any, fault_proxy: FaultProxy, table_name: str):
    seen: list[RequestInfo] = []

    def rule(info: RequestInfo) -> Fault | None:
        seen.append(info)
        return THROTTLE if info.sequence == 1 else None

    fault_proxy.set_rule(rule)
    with pytest.raises(ClientError):
        via.transact_write_items(**add_one(table_name, "a", "tok"))
    via.transact_write_items(**add_one(table_name, "a", "tok"))
    assert [(i.operation, i.sequence, i.token) for i in seen] == [
        ("TransactWriteItems", 1, "tok"),
        ("TransactWriteItems", 2, "tok"),
    ]
    assert seen[0].body == add_one(table_name, "a", "tok")
    assert counter(direct, table_name, "a") == 1


def test_random_plan_is_seeded_and_respects_its_rate():
    infos = [RequestInfo("PutItem", None, None, n) for n in range(1, 301)]
    faults = (THROTTLE, RESET_AFTER)
    plan, twin = (RandomPlan(rate=0.3, seed=7, faults=faults) for _ in range(2))
    first = [plan(i) for i in infos]
    assert first == [twin(i) for i in infos]
    assert set(first) == {None, THROTTLE, RESET_AFTER}
    assert not any(RandomPlan(rate=0.0, seed=7)(i) for i in infos)
    only_gets = RandomPlan(rate=1.0, seed=7, operations={"GetItem"})
    assert only_gets(infos[0]) is None


def test_the_library_retries_through_the_proxy(
    fault_proxy: FaultProxy, direct: Any, table_name: str
):
    service = DynamoDBService.from_endpoint(
        fault_proxy.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        timeout=5.0,
    )
    try:
        fault_proxy.fail_next("PutItem", THROTTLE)
        service.execute("PutItem", {"TableName": table_name, "Item": {**key("a"), "v": {"S": "1"}}})
    finally:
        service.close()
    assert stored(direct, table_name, "a") is not None
    stats = fault_proxy.stats("PutItem")
    assert (stats.arrived, stats.forwarded, stats.faults) == (2, 1, {FaultKind.THROTTLE: 1})


def test_dynalite_behind_the_proxy(dynalite_fault_proxy: FaultProxy, table_name: str):
    via = client(dynalite_fault_proxy.endpoint, read_timeout=10)
    via.create_table(**Table(table_name).create_table_request())
    try:
        via.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.05})
        dynalite_fault_proxy.fail_next("PutItem", RESET_BEFORE)
        with pytest.raises(BotoCoreError):
            put(via, table_name, "a")
        put(via, table_name, "b")
        assert "Item" not in via.get_item(TableName=table_name, Key=key("a"))
        assert "Item" in via.get_item(TableName=table_name, Key=key("b"))
    finally:
        via.delete_table(TableName=table_name)
