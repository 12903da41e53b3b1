"""UnitOfWork: the exact TransactWriteItems it sends, its limits, states and failures.

Requests are asserted as they crossed the provider boundary (RecordingProvider over the
embedded backend), so a test fails if an intent is reordered, a condition is lost or a
token changes between attempts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo import (
    DynamoDBService,
    EmbeddedProvider,
    Entity,
    ErrorCode,
    InvalidInputError,
    MockProvider,
    RecordingProvider,
    RetriesExhaustedError,
    RetryPolicy,
    Table,
    TransactionCancelledError,
    attr,
)
from tctf_dynamo.aio import AsyncUnitOfWork
from tctf_dynamo.errors import (
    CancellationReason,
    DynamoDBServiceError,
    OutcomeUnknownError,
    UnprocessedItemsError,
    error_for,
)
from tctf_dynamo.limits import MAX_TRANSACTION_ACTIONS
from tctf_dynamo.providers.base import Provider, Request, Response
from tctf_dynamo.uow import IntentResult, UnitOfWork, UnitState
from tests.uow_apis import AsyncUnits, SyncUnits, units

__all__ = ["units"]  # the fixture: every test below runs on both APIs
Units = SyncUnits | AsyncUnits

table = Table("uow-unit")


class Wallet(Entity, table=table, pk="USER#{user_id}", sk="WALLET"):
    user_id: str
    balance: Decimal = Decimal(0)


class Account(Entity, table=table, pk="USER#{user_id}", sk="ACCOUNT", version="version"):
    user_id: str
    status: str = "ACTIVE"
    version: int = 0


class Blob(Entity, table=table, pk="BLOB#{blob_id}", sk="META"):
    blob_id: str
    data: str = ""


class Scripted:
    """Forwards to ``inner``; the first TransactWriteItems calls follow ``script``.

    ``"conflict"`` raises a retryable cancellation without sending; ``"timeout_after"``
    sends, then raises TIMEOUT (the ambiguous case: DynamoDB committed, we do not know).
    """

    def __init__(self, inner: Provider, script: list[str]) -> None:
        self.inner = inner
        self.script = list(script)

    def call(self, operation: str, request: Request) -> Response:
        if operation != "TransactWriteItems" or not self.script:
            return self.inner.call(operation, request)
        step = self.script.pop(0)
        if step == "conflict":
            reasons = [CancellationReason(0, ErrorCode.TRANSACTION_CONFLICT)] + [
                CancellationReason(i, None) for i in range(1, len(request["TransactItems"]))
            ]
            raise TransactionCancelledError("conflict", reasons, {}, retryable=True)
        self.inner.call(operation, request)
        raise error_for(ErrorCode.TIMEOUT, "read timeout", {"operation": operation})

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> Scripted:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _service(provider: Provider, **options: Any) -> DynamoDBService:
    options.setdefault("sleep", lambda _seconds: None)
    service = DynamoDBService(provider, **options)
    service.create_table(table)
    return service


@pytest.fixture
def recording() -> Iterator[RecordingProvider]:
    with RecordingProvider(EmbeddedProvider()) as provider:
        yield provider


@pytest.fixture
def service(recording: RecordingProvider) -> DynamoDBService:
    built = _service(recording)
    built.put_item(table, {"PK": "USER#u1", "SK": "WALLET", "_type": "Wallet", "user_id": "u1"})
    recording.clear()
    return built


def _transactions(recording: RecordingProvider) -> list[Request]:
    return recording.requests("TransactWriteItems")


KEY_U1 = {"PK": {"S": "USER#u1"}, "SK": {"S": "WALLET"}}


# ---------------------------------------------------------------- the request sent


def test_one_transaction_with_the_intents_in_call_order(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with units.unit(service) as uow:
        uow.condition_check(Account, {"user_id": "u9"}, attr("status").not_exists())
        uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(5)})
        uow.put(Wallet(user_id="u2", balance=Decimal(7)))
        uow.delete(Blob, {"blob_id": "b1"})

    assert recording.operations == ["TransactWriteItems"]
    assert _transactions(recording)[0] == {
        "TransactItems": [
            {
                "ConditionCheck": {
                    "TableName": "uow-unit",
                    "Key": {"PK": {"S": "USER#u9"}, "SK": {"S": "ACCOUNT"}},
                    "ConditionExpression": "attribute_not_exists(#n0)",
                    "ExpressionAttributeNames": {"#n0": "status"},
                }
            },
            {
                "Update": {
                    "TableName": "uow-unit",
                    "Key": KEY_U1,
                    "ConditionExpression": "attribute_exists(#n0)",
                    "UpdateExpression": "ADD #n1 :v0",
                    "ExpressionAttributeNames": {"#n0": "PK", "#n1": "balance"},
                    "ExpressionAttributeValues": {":v0": {"N": "5"}},
                }
            },
            {
                "Put": {
                    "TableName": "uow-unit",
                    "Item": {
                        "PK": {"S": "USER#u2"},
                        "SK": {"S": "WALLET"},
                        "_type": {"S": "Wallet"},
                        "user_id": {"S": "u2"},
                        "balance": {"N": "7"},
                    },
                }
            },
            {
                "Delete": {
                    "TableName": "uow-unit",
                    "Key": {"PK": {"S": "BLOB#b1"}, "SK": {"S": "META"}},
                }
            },
        ],
        "ClientRequestToken": uow.client_request_token,
    }
    assert uow.state is UnitState.COMMITTED
    assert [(r.index, r.operation, r.entity) for r in uow.results] == [
        (0, "ConditionCheck", "Account"),
        (1, "Update", "Wallet"),
        (2, "Put", "Wallet"),
        (3, "Delete", "Blob"),
    ]


def test_intent_methods_return_the_index_of_their_reason(
    units: Units, service: DynamoDBService
) -> None:
    uow = units.unit(service)
    assert uow.put(Wallet(user_id="a")) == 0
    assert uow.create(Wallet(user_id="b")) == 1
    assert uow.update(Wallet, {"user_id": "u1"}, set={"balance": Decimal(1)}) == 2
    assert uow.delete(Wallet, {"user_id": "c"}) == 3
    assert uow.condition_check(Wallet, {"user_id": "d"}, attr("balance") > 0) == 4
    assert len(uow) == 5
    uow.discard()


def test_each_unit_draws_its_own_uuid4_token_unless_given_one(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    first, second = units.unit(service), units.unit(service)
    assert first.client_request_token != second.client_request_token
    assert uuid.UUID(first.client_request_token).version == 4
    with units.unit(service, client_request_token="order-42-payment") as uow:
        uow.put(Wallet(user_id="u3"))
    assert _transactions(recording)[0]["ClientRequestToken"] == "order-42-payment"
    with pytest.raises(InvalidInputError) as caught:
        units.unit(service, client_request_token="x" * 37)
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION


def test_an_instance_of_a_versioned_entity_guards_its_version(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with units.unit(service) as uow:
        uow.create(Account(user_id="u1"))
    stored = uow.committed[0]
    assert isinstance(stored, Account) and stored.version == 1
    recording.clear()
    with units.unit(service) as uow:
        uow.update(Account, stored, set={"status": "LOCKED"})
    body = _transactions(recording)[0]["TransactItems"][0]["Update"]
    assert body["ConditionExpression"] == "attribute_exists(#n0) AND #n1 = :v0"
    assert body["ExpressionAttributeNames"]["#n1"] == "version"
    assert body["ExpressionAttributeValues"][":v0"] == {"N": "1"}

    with pytest.raises(TransactionCancelledError) as caught, units.unit(service) as stale:
        stale.delete(Account, stored)  # still version 1; the item is at 2 now
    assert [r.code for r in caught.value.reasons] == [ErrorCode.CONDITION_FAILED]


def test_committed_holds_the_puts_as_stored(units: Units, service: DynamoDBService) -> None:
    with units.unit(service) as uow:
        uow.create(Account(user_id="v1"))
        uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(1)})
        uow.put(Wallet(user_id="v2"))
    assert [type(e).__name__ for e in uow.committed] == ["Account", "Wallet"]
    assert uow.results[0] == IntentResult(
        0, "Put", "Account", {"user_id": "v1"}, uow.committed[0], applied=True
    )
    assert uow.results[1].written is None


def _mixed_unit(uow: Any) -> None:
    uow.condition_check(Account, {"user_id": "u9"}, attr("status").not_exists())
    uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(5)})
    uow.create(Account(user_id="m1"))
    uow.delete(Blob, {"blob_id": "b1"})


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "separate"])
def test_both_apis_send_identical_requests_and_tokens(
    recording: RecordingProvider, atomic: bool
) -> None:
    """The same unit, built once per API with one token and one ``now``: the requests that
    cross the provider boundary are identical, so the async path cannot drift."""
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    sent: list[list[tuple[str, Request]]] = []
    for api in (SyncUnits(), AsyncUnits()):
        service = _service(recording)
        service.put_item(
            table, {"PK": "USER#u1", "SK": "WALLET", "_type": "Wallet", "user_id": "u1"}
        )
        recording.clear()
        token = "same-token" if atomic else None
        with api.unit(service, atomic=atomic, client_request_token=token, now=moment) as uow:
            if atomic:
                _mixed_unit(uow)
            else:
                uow.put(Wallet(user_id="p1"))
                uow.update(Wallet, {"user_id": "u1"}, set={"balance": Decimal(2)})
                uow.create(Account(user_id="m1"))
        calls = [(call.operation, call.request) for call in recording.calls]
        # separate intents go concurrently: their order between requests is not kept
        sent.append(calls if atomic else sorted(calls, key=lambda c: json.dumps(c, sort_keys=True)))
        service.delete_table(table)
        api.close()
    assert sent[0] == sent[1]
    if atomic:
        assert [operation for operation, _ in sent[0]] == ["TransactWriteItems"]
        assert sent[0][0][1]["ClientRequestToken"] == "same-token"
    else:
        assert sorted(operation for operation, _ in sent[0]) == [
            "BatchWriteItem",
            "PutItem",
            "UpdateItem",
        ]


def test_the_async_unit_is_the_shared_core_and_its_shell() -> None:
    """AsyncUnitOfWork shares UnitCore with UnitOfWork: nothing but the shell differs."""
    from tctf_dynamo.uow._unit import UnitCore

    assert AsyncUnitOfWork.__mro__[1] is UnitCore and UnitOfWork.__mro__[1] is UnitCore
    own = set(vars(AsyncUnitOfWork)) - {"__doc__", "__module__", "__init__", "__annotations__"}
    assert own == {"commit", "__aenter__", "__aexit__"}


# ---------------------------------------------------------------- nothing sent


def test_an_empty_unit_sends_nothing(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with units.unit(service) as uow:
        pass
    assert recording.calls == []
    assert uow.state is UnitState.COMMITTED
    assert uow.results == []


def test_an_exception_in_the_block_sends_nothing_and_propagates(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with pytest.raises(KeyError), units.unit(service) as uow:
        uow.put(Wallet(user_id="u5"))
        raise KeyError("boom")
    assert recording.calls == []
    assert uow.state is UnitState.DISCARDED


def test_the_101st_intent_is_refused_before_sending(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    uow = units.unit(service)
    for n in range(MAX_TRANSACTION_ACTIONS):
        uow.put(Wallet(user_id=f"w{n}"))
    with pytest.raises(InvalidInputError) as caught:
        uow.put(Wallet(user_id="one-too-many"))
    assert caught.value.code is ErrorCode.TRANSACTION_TOO_LARGE
    assert caught.value.details["index"] == MAX_TRANSACTION_ACTIONS
    assert recording.calls == []
    uow.commit()  # the refused intent was not added; the hundred still commit
    assert len(_transactions(recording)[0]["TransactItems"]) == MAX_TRANSACTION_ACTIONS


def test_more_than_4_mb_is_refused_at_the_intent_that_passes_it(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    uow = units.unit(service)
    big = "x" * 390_000
    with pytest.raises(InvalidInputError) as caught:
        for n in range(20):
            uow.put(Blob(blob_id=f"b{n}", data=big))
    assert caught.value.code is ErrorCode.TRANSACTION_TOO_LARGE
    assert caught.value.details["index"] == 10  # 11 items of ~390 KB pass 4 MiB
    assert caught.value.details["size"] > caught.value.details["limit"]
    assert len(uow) == 10
    assert recording.calls == []


@pytest.mark.parametrize("first", ["put", "delete"])
def test_a_second_intent_on_one_item_names_both_indexes(
    units: Units, service: DynamoDBService, recording: RecordingProvider, first: str
) -> None:
    uow = units.unit(service)
    uow.put(Wallet(user_id="other"))
    if first == "put":
        uow.put(Wallet(user_id="u1"))
    else:
        uow.delete(Wallet, {"user_id": "u1"})
    with pytest.raises(InvalidInputError) as caught:
        uow.update(Wallet, Wallet(user_id="u1"), set={"balance": Decimal(3)})
    error = caught.value
    assert error.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    assert (error.details["first_index"], error.details["second_index"]) == (1, 2)
    assert "intents 1 and 2" in error.message
    assert recording.calls == []


def test_an_invalid_intent_is_refused_when_added(units: Units, service: DynamoDBService) -> None:
    uow = units.unit(service)
    with pytest.raises(DynamoDBServiceError):
        uow.update(Wallet, {"user_id": "u1"}, set={"no_such_field": 1})
    with pytest.raises(DynamoDBServiceError) as caught:
        uow.update(Wallet, {"wrong": "u1"}, set={"balance": Decimal(1)})
    assert caught.value.code is ErrorCode.INVALID_KEY
    assert len(uow) == 0


# ---------------------------------------------------------------- states


def test_use_after_commit_is_invalid_state(units: Units, service: DynamoDBService) -> None:
    uow = units.unit(service)
    uow.put(Wallet(user_id="s1"))
    uow.commit()
    for use in (
        lambda: uow.commit(),
        lambda: uow.put(Wallet(user_id="s2")),
        lambda: uow.update(Wallet, {"user_id": "s1"}, set={"balance": Decimal(1)}),
        lambda: uow.delete(Wallet, {"user_id": "s1"}),
        lambda: uow.condition_check(Wallet, {"user_id": "s1"}, attr("balance") > 0),
        lambda: uow.discard(),
        lambda: uow.__enter__(),
    ):
        with pytest.raises(InvalidInputError) as caught:
            use()
        assert caught.value.code is ErrorCode.INVALID_STATE
        assert caught.value.details["state"] == "COMMITTED"


def test_use_after_a_failed_commit_is_invalid_state(units: Units, service: DynamoDBService) -> None:
    uow = units.unit(service)
    uow.create(Wallet(user_id="u1"))  # exists: the commit is cancelled
    with pytest.raises(TransactionCancelledError):
        uow.commit()
    assert uow.state is UnitState.FAILED
    for use in (uow.commit, lambda: uow.results, lambda: uow.put(Wallet(user_id="z"))):
        with pytest.raises(InvalidInputError) as caught:
            use()
        assert caught.value.details["state"] == "FAILED"


def test_results_are_available_only_once_committed(units: Units, service: DynamoDBService) -> None:
    uow = units.unit(service)
    with pytest.raises(InvalidInputError) as caught:
        _ = uow.committed
    assert caught.value.code is ErrorCode.INVALID_STATE
    uow.discard()
    assert uow.state is UnitState.DISCARDED


def test_an_explicit_commit_in_the_block_is_not_repeated_at_exit(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with units.unit(service) as uow:
        uow.put(Wallet(user_id="x1"))
        uow.commit()
    assert recording.operations == ["TransactWriteItems"]


@pytest.mark.parametrize("unit_class", [UnitOfWork, AsyncUnitOfWork])
def test_each_method_declares_the_states_it_accepts(unit_class: type[Any]) -> None:
    open_only = {UnitState.OPEN}
    for name in ("put", "create", "update", "delete", "condition_check", "discard"):
        assert getattr(unit_class, name).__accepts__ == open_only, name
    assert unit_class.commit.__accepts__ == {UnitState.OPEN, UnitState.UNKNOWN}
    assert UnitOfWork.results.fget.__accepts__ == {UnitState.COMMITTED}  # type: ignore[attr-defined]


# ---------------------------------------------------------------- failures


def test_cancellation_reasons_are_aligned_to_the_intents(
    units: Units, service: DynamoDBService
) -> None:
    uow = units.unit(service)
    uow.put(Wallet(user_id="new"))
    uow.create(Wallet(user_id="u1", balance=Decimal("123.45")))
    uow.update(Account, {"user_id": "nobody"}, set={"status": "X"})
    with pytest.raises(TransactionCancelledError) as caught:
        uow.commit()
    error = caught.value
    assert error.code is ErrorCode.TRANSACTION_CANCELLED
    assert [(r.index, r.operation, r.entity, r.key, r.code) for r in error.reasons] == [
        (0, "Put", "Wallet", {"user_id": "new"}, None),
        (1, "Put", "Wallet", {"user_id": "u1"}, ErrorCode.CONDITION_FAILED),
        (2, "Update", "Account", {"user_id": "nobody"}, ErrorCode.CONDITION_FAILED),
    ]
    assert "intent 1 (Put Wallet)" in error.message
    assert "intent 2 (Update Account)" in error.message
    assert "u1" not in str(error) and "nobody" not in str(error) and "123.45" not in str(error)
    assert error.details["failed_indexes"] == [1, 2]
    assert not error.retryable
    assert all(reason.item is None for reason in error.reasons)


def test_return_failed_items_parses_the_item_that_failed(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    uow = units.unit(service, return_failed_items=True)
    uow.put(Wallet(user_id="p1"))
    uow.update(
        Wallet, {"user_id": "u1"}, set={"balance": Decimal(1)}, condition=attr("balance") > 10
    )
    with pytest.raises(TransactionCancelledError) as caught:
        uow.commit()
    actions = _transactions(recording)[0]["TransactItems"]
    assert "ReturnValuesOnConditionCheckFailure" not in actions[0]["Put"]  # unconditional
    assert actions[1]["Update"]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    failed = caught.value.reasons[1]
    assert failed.item == Wallet(user_id="u1", balance=Decimal(0))
    assert caught.value.reasons[0].item is None


def _scripted(script: list[str], **options: Any) -> tuple[DynamoDBService, RecordingProvider]:
    """A service whose provider follows ``script``, recorded outside the script."""
    recording = RecordingProvider(Scripted(EmbeddedProvider(), script))
    service = _service(recording, **options)
    service.put_item(table, {"PK": "USER#u1", "SK": "WALLET", "_type": "Wallet", "user_id": "u1"})
    recording.clear()
    return service, recording


def test_conflicts_are_retried_with_the_same_token_and_request(units: Units) -> None:
    service, recording = _scripted(["conflict", "conflict"])
    with units.unit(service) as uow:
        uow.put(Wallet(user_id="r1"))
        uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(2)})
    sent = _transactions(recording)
    assert len(sent) == 3
    assert sent[0] == sent[1] == sent[2]
    assert sent[0]["ClientRequestToken"] == uow.client_request_token
    assert [call.succeeded for call in recording.calls] == [False, False, True]
    wallet = service.get_item(table, {"PK": "USER#u1", "SK": "WALLET"})
    assert wallet is not None and wallet["balance"] == 2


def test_conflicts_until_retries_run_out_keep_the_aligned_reasons(units: Units) -> None:
    service, recording = _scripted(["conflict"] * 3, retry=RetryPolicy(max_attempts=3))
    uow = units.unit(service)
    uow.put(Wallet(user_id="r1"))
    uow.put(Wallet(user_id="r2"))
    with pytest.raises(RetriesExhaustedError) as caught:
        uow.commit()
    last = caught.value.last_error
    assert isinstance(last, TransactionCancelledError)
    assert [(r.index, r.entity, r.code) for r in last.reasons] == [
        (0, "Wallet", ErrorCode.TRANSACTION_CONFLICT),
        (1, "Wallet", None),
    ]
    assert caught.value.attempts == 3
    assert len(_transactions(recording)) == 3
    assert uow.state is UnitState.FAILED


def test_condition_failures_are_not_retried(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with pytest.raises(TransactionCancelledError), units.unit(service) as uow:
        uow.create(Wallet(user_id="u1"))
    assert len(_transactions(recording)) == 1


def test_a_timeout_after_commit_is_retried_with_the_same_token_and_applied_once(
    units: Units,
) -> None:
    service, recording = _scripted(["timeout_after"])
    with units.unit(service) as uow:
        uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(10)})
        uow.put(Wallet(user_id="u2", balance=Decimal(1)))
    sent = _transactions(recording)
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0]["ClientRequestToken"] == uow.client_request_token
    assert recording.calls[0].error is not None
    assert recording.calls[0].error.code is ErrorCode.TIMEOUT
    wallet = service.get_item(table, {"PK": "USER#u1", "SK": "WALLET"})
    assert wallet is not None and wallet["balance"] == 10


# ---------------------------------------------------------------- read_together


def test_read_together_reads_several_types_in_one_request(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with units.unit(service) as uow:
        uow.create(Account(user_id="u1"))
    recording.clear()
    found = units.read_together(
        service,
        [(Wallet, {"user_id": "u1"}), (Account, {"user_id": "u1"}), (Wallet, {"user_id": "no"})],
    )
    assert found[0] == Wallet(user_id="u1")
    assert isinstance(found[1], Account) and found[1].version == 1
    assert found[2] is None
    assert recording.operations == ["TransactGetItems"]
    assert recording.requests("TransactGetItems")[0]["TransactItems"][0] == {
        "Get": {"TableName": "uow-unit", "Key": KEY_U1}
    }
    assert units.read_together(service, []) == []


def test_read_together_checks_the_limits_before_sending(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    too_many = [(Wallet, {"user_id": f"u{n}"}) for n in range(MAX_TRANSACTION_ACTIONS + 1)]
    with pytest.raises(InvalidInputError) as caught:
        units.read_together(service, too_many)
    assert caught.value.code is ErrorCode.TRANSACTION_TOO_LARGE
    with pytest.raises(InvalidInputError) as caught:
        units.read_together(service, [(Wallet, {"user_id": "a"}), (Wallet, Wallet(user_id="a"))])
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    assert recording.calls == []


# ---------------------------------------------------------------- atomic=False


class HoldBack:
    """BatchWriteItem never processes items whose partition key contains ``stuck``."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    def call(self, operation: str, request: Request) -> Response:
        if operation != "BatchWriteItem":
            return self.inner.call(operation, request)
        sent: dict[str, list[Any]] = {}
        held: dict[str, list[Any]] = {}
        for name, writes in request["RequestItems"].items():
            for write in writes:
                wire = write.get("PutRequest", {}).get("Item") or write["DeleteRequest"]["Key"]
                target = held if "stuck" in wire["PK"]["S"] else sent
                target.setdefault(name, []).append(write)
        if sent:
            self.inner.call(operation, {"RequestItems": sent})
        return {"UnprocessedItems": held}

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> HoldBack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def test_without_atomicity_a_condition_check_is_refused_when_added(
    units: Units,
    service: DynamoDBService,
) -> None:
    uow = units.unit(service, atomic=False)
    with pytest.raises(InvalidInputError) as caught:
        uow.condition_check(Wallet, {"user_id": "u1"}, attr("balance") > 0)
    assert caught.value.code is ErrorCode.INVALID_STATE
    assert "atomicity" in caught.value.message
    assert len(uow) == 0


def test_without_atomicity_puts_and_deletes_are_batched_and_others_sent_alone(
    units: Units, service: DynamoDBService, recording: RecordingProvider
) -> None:
    with units.unit(service, atomic=False) as uow:
        for n in range(130):  # past the 100 a transaction could hold
            uow.put(Wallet(user_id=f"b{n}"))
        uow.delete(Wallet, {"user_id": "gone"})
        uow.update(Wallet, {"user_id": "u1"}, set={"balance": Decimal(4)})
        uow.update(Wallet, {"user_id": "u1-twin"}, add={"balance": Decimal(1)}, upsert=True)
        uow.create(Account(user_id="u1"))
    operations = recording.operations
    assert operations.count("BatchWriteItem") == 6  # 131 requests in chunks of 25
    assert (
        sum(len(r["RequestItems"]["uow-unit"]) for r in recording.requests("BatchWriteItem")) == 131
    )
    assert len(recording.requests("UpdateItem")) == 1  # idempotent SET: UpdateItem
    (once,) = recording.requests("TransactWriteItems")  # ADD: once, by token
    assert len(once["TransactItems"]) == 1 and "ClientRequestToken" in once
    (create,) = recording.requests("PutItem")
    assert "attribute_not_exists" in create["ConditionExpression"]
    assert all(result.applied for result in uow.results)
    assert len(uow.results) == 134
    assert service.get_item(table, {"PK": "USER#b129", "SK": "WALLET"}) is not None


def test_without_atomicity_the_error_lists_exactly_the_intents_not_applied(units: Units) -> None:
    provider = RecordingProvider(HoldBack(EmbeddedProvider()))
    service = _service(provider, retry=RetryPolicy(max_attempts=2))
    service.put_item(table, {"PK": "USER#u1", "SK": "WALLET", "_type": "Wallet", "user_id": "u1"})
    uow = units.unit(service, atomic=False)
    uow.put(Wallet(user_id="ok-1"))
    uow.put(Wallet(user_id="stuck-1"))
    uow.create(Wallet(user_id="u1"))  # exists: its condition fails
    uow.update(Wallet, {"user_id": "u2"}, set={"balance": Decimal(9)}, upsert=True)
    uow.delete(Wallet, {"user_id": "stuck-2"})
    with pytest.raises(DynamoDBServiceError) as caught:
        uow.commit()
    error = caught.value
    assert error.code is ErrorCode.UNPROCESSED_ITEMS
    not_applied = error.unprocessed  # type: ignore[attr-defined]
    assert [(r.index, r.entity, r.applied) for r in not_applied] == [
        (1, "Wallet", False),
        (2, "Wallet", False),
        (4, "Wallet", False),
    ]
    assert not_applied[0].error.code is ErrorCode.UNPROCESSED_ITEMS
    assert not_applied[1].error.code is ErrorCode.CONDITION_FAILED
    assert error.details["failed_indexes"] == [1, 2, 4]
    assert not error.retryable  # a failed condition will fail again
    assert service.get_item(table, {"PK": "USER#ok-1", "SK": "WALLET"}) is not None
    assert service.get_item(table, {"PK": "USER#stuck-1", "SK": "WALLET"}) is None
    wallet = service.get_item(table, {"PK": "USER#u2", "SK": "WALLET"})
    assert wallet is not None and wallet["balance"] == 9
    assert uow.state is UnitState.FAILED


class LostThenHeldBack:
    """The first BatchWriteItem is applied and its answer lost (a read timeout); every
    resend hands all its writes back unprocessed."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.lost = False

    def call(self, operation: str, request: Request) -> Response:
        if operation != "BatchWriteItem":
            return self.inner.call(operation, request)
        if not self.lost:
            self.lost = True
            self.inner.call(operation, request)
            raise error_for(ErrorCode.TIMEOUT, "read timeout", {"exception": "ReadTimeoutError"})
        return {"UnprocessedItems": request["RequestItems"]}

    def close(self) -> None:
        self.inner.close()


def test_without_atomicity_writes_handed_back_after_a_lost_answer_are_unknown(
    units: Units,
) -> None:
    """The resend's answer proves nothing about the lost attempt, which did write them:
    handed back and given up, they are reported unknown (may be stored), never "not
    applied", exactly as a bulk job reports them."""
    service = _service(LostThenHeldBack(EmbeddedProvider()), retry=RetryPolicy(max_attempts=2))
    uow = units.unit(service, atomic=False)
    uow.put(Wallet(user_id="w1"))
    uow.delete(Wallet, {"user_id": "w2"})
    uow.update(Wallet, {"user_id": "w3"}, set={"balance": Decimal(3)}, upsert=True)
    with pytest.raises(UnprocessedItemsError) as caught:
        uow.commit()
    error = caught.value
    assert [(r.index, r.outcome) for r in error.unprocessed] == [(0, "unknown"), (1, "unknown")]
    assert error.details["unknown_indexes"] == [0, 1]
    for result in error.unprocessed:
        assert isinstance(result.error, OutcomeUnknownError)
        assert result.error.last_error.code is ErrorCode.TIMEOUT
        assert result.error.details["operation"] == "BatchWriteItem"
    assert service.get_item(table, {"PK": "USER#w1", "SK": "WALLET"}) is not None  # stored
    assert service.get_item(table, {"PK": "USER#w3", "SK": "WALLET"}) is not None
    assert uow.state is UnitState.FAILED


class Refusing:
    """Every BatchWriteItem is refused (access denied); everything else goes through."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    def call(self, operation: str, request: Request) -> Response:
        if operation == "BatchWriteItem":
            raise error_for(ErrorCode.ACCESS_DENIED, "denied", {"operation": operation})
        return self.inner.call(operation, request)

    def close(self) -> None:
        self.inner.close()


def test_without_atomicity_a_refused_batch_stops_the_batches_and_says_why(units: Units) -> None:
    """A refusal that would refuse the rest too: no further batch request is sent; the
    refused request's intents carry the refusal, the ones never sent UNPROCESSED_ITEMS
    caused by it; nothing is worth committing again as is."""
    recording = RecordingProvider(Refusing(EmbeddedProvider()))
    service = _service(recording, max_workers=1)
    uow = units.unit(service, atomic=False)
    for n in range(30):
        uow.put(Wallet(user_id=f"r{n}"))
    uow.update(Wallet, {"user_id": "r-set"}, set={"balance": Decimal(1)}, upsert=True)
    with pytest.raises(UnprocessedItemsError) as caught:
        uow.commit()
    error = caught.value
    assert recording.operations.count("BatchWriteItem") == 1
    codes = [result.error.code for result in error.unprocessed]
    assert codes == [ErrorCode.ACCESS_DENIED] * 25 + [ErrorCode.UNPROCESSED_ITEMS] * 5
    assert error.unprocessed[-1].error.__cause__.code is ErrorCode.ACCESS_DENIED
    assert error.details["failed_indexes"] == list(range(30))
    assert not error.retryable
    assert service.get_item(table, {"PK": "USER#r-set", "SK": "WALLET"}) is not None


# ---------------------------------------------------------------- property


def _answering_mock(sent: list[Request]) -> MockProvider:
    def handle(operation: str, request: Request) -> Response:
        if operation == "DescribeTable":
            return {"Table": {"TableStatus": "ACTIVE"}}
        if operation == "TransactWriteItems":
            sent.append(request)
        return {}

    return MockProvider(handle)


def _add(uow: Any, operation: str, key: dict[str, str]) -> None:
    if operation == "put":
        uow.put(Wallet(**key))
    elif operation == "update":
        uow.update(Wallet, key, set={"balance": Decimal(1)})
    elif operation == "delete":
        uow.delete(Wallet, key)
    else:
        uow.condition_check(Wallet, key, attr("balance") > 0)


OPERATIONS = st.sampled_from(["put", "update", "delete", "check"])


@pytest.mark.parametrize("api", [SyncUnits, AsyncUnits], ids=["sync", "async"])
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(OPERATIONS, st.integers(0, 12)), min_size=1, max_size=20))
def test_intents_are_sent_in_order_folded_or_the_repeat_is_named(
    api: type[Units], steps: list[tuple[str, int]]
) -> None:
    """Each item gets one action, at the place of its first intent; a condition check and
    one write of an item share it (the write's kind), any other repeat is refused."""
    units = api()
    try:
        _check_order(units, steps)
    finally:
        units.close()


def _check_order(units: Units, steps: list[tuple[str, int]]) -> None:
    sent: list[Request] = []
    service = _service(_answering_mock(sent))
    uow = units.unit(service)
    first_of: dict[int, int] = {}
    operations_of: dict[int, list[str]] = {}
    order: list[int] = []
    for operation, user in steps:
        earlier = operations_of.get(user, [])
        folds = len(earlier) == 1 and sorted([earlier[0], operation]).count("check") == 1
        if earlier and not folds:
            with pytest.raises(InvalidInputError) as caught:
                _add(uow, operation, {"user_id": f"p{user}"})
            assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
            assert caught.value.details["first_index"] == first_of[user]
            assert caught.value.details["second_index"] == len(uow)
            assert sent == []
            return
        _add(uow, operation, {"user_id": f"p{user}"})
        if not earlier:
            first_of[user] = len(uow) - 1
            order.append(user)
        operations_of.setdefault(user, []).append(operation)
    uow.commit()
    kinds = {"put": "Put", "update": "Update", "delete": "Delete", "check": "ConditionCheck"}
    (request,) = sent
    expected = []
    for user in order:
        writes = [op for op in operations_of[user] if op != "check"] or ["check"]
        expected.append(kinds[writes[0]])
    assert [next(iter(action)) for action in request["TransactItems"]] == expected
    keys = [next(iter(action.values())) for action in request["TransactItems"]]
    users = [(body.get("Key") or body["Item"])["PK"]["S"] for body in keys]
    assert users == [f"USER#p{user}" for user in order]
