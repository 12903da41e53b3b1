"""A task cancelled while its unit of work commits leaves the unit truthfully reported.

The backend is the embedded one (which honours ClientRequestToken as DynamoDB does)
behind :class:`Gate`, an async provider that holds chosen requests until the test
cancels the committing task: after forwarding them (applied, answer lost) or before
(never reached DynamoDB, as far as the client can tell). Each test then checks what the
unit reports, settles it, and checks the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import (
    AsyncUnitOfWork,
    DynamoDBService,
    EmbeddedProvider,
    RecordingProvider,
    RetryPolicy,
    Table,
    UnitOfWork,
)
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.errors import (
    ErrorCode,
    OutcomeUnknownError,
    UnprocessedItemsError,
    error_for,
)
from tctf_dynamo.model import Entity
from tctf_dynamo.providers.base import AsyncClosing, Request, Response, send
from tctf_dynamo.uow import UnitState

table = Table("uow-cancel")


class Wallet(Entity, table=table, pk="USER#{user_id}", sk="WALLET"):
    user_id: str
    balance: Decimal = Decimal(0)


class Gate(AsyncClosing):
    """Sends on a worker thread; the first ``hold`` request of ``operation`` waits for a
    cancellation, forwarded first when ``applied`` (the answer is lost) or not at all."""

    def __init__(self, inner: RecordingProvider, operation: str, *, applied: bool) -> None:
        self.inner = inner
        self.operation = operation
        self.applied = applied
        self.holding = True
        self.entered = asyncio.Event()
        self.fail_first: str | None = None

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        if operation == self.operation and self.fail_first is not None:
            failure, self.fail_first = self.fail_first, None
            if failure == "timeout_after":
                await asyncio.to_thread(send, self.inner, operation, request, timeout)
                raise error_for(ErrorCode.TIMEOUT, "read timeout", {"operation": operation})
            raise error_for(ErrorCode.THROTTLED, "throttled", {"operation": operation})
        if operation == self.operation and self.holding:
            self.holding = False
            if self.applied:
                await asyncio.to_thread(send, self.inner, operation, request, timeout)
            self.entered.set()
            await asyncio.Event().wait()  # until cancelled
        return await asyncio.to_thread(send, self.inner, operation, request, timeout)

    async def close(self) -> None:
        self.inner.close()


FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)


async def _setup(
    gate: Gate, sleep: Callable[[float], Awaitable[object]] | None = None, **options: Any
) -> AsyncDynamoDBService:
    extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    service = AsyncDynamoDBService(gate, retry=FAST, **extra, **options)
    await service.create_table(table)
    return service


def _wallet(recording: RecordingProvider, user_id: str) -> dict[str, Any] | None:
    response = recording.inner.call(
        "GetItem",
        {
            "TableName": "uow-cancel",
            "Key": {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "WALLET"}},
            "ConsistentRead": True,
        },
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


async def _cancel_while(task: asyncio.Task[Any], entered: asyncio.Event) -> None:
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("applied", [True, False], ids=["answer-lost", "never-arrived"])
def test_a_cancelled_atomic_commit_is_unknown_and_settles_with_its_token(applied: bool) -> None:
    recording = RecordingProvider(EmbeddedProvider())
    gate = Gate(recording, "TransactWriteItems", applied=applied)

    async def scenario() -> None:
        service = await _setup(gate)
        uow = AsyncUnitOfWork(service)
        uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(5)}, upsert=True)
        uow.put(Wallet(user_id="u2"))
        await _cancel_while(asyncio.create_task(uow.commit()), gate.entered)

        assert uow.state is UnitState.UNKNOWN
        error = uow.error
        assert isinstance(error, OutcomeUnknownError)
        assert error.token == uow.client_request_token
        (sent,) = recording.requests("TransactWriteItems") or [None]
        if applied:
            assert error.request == sent
        assert error.request is not None
        assert error.request["ClientRequestToken"] == uow.client_request_token
        assert error.last_error.code is ErrorCode.INTERRUPTED
        assert not error.retryable

        assert await service.settle(error) is True  # applied, exactly once
        assert _wallet(recording, "u1")["balance"] == {"N": "5"}  # type: ignore[index]
        # a second commit of the unit replays the identical request: nothing applies twice
        results = await uow.commit()
        assert uow.state is UnitState.COMMITTED and uow.error is None
        assert [result.applied for result in results] == [True, True]
        replays = recording.requests("TransactWriteItems")
        assert len(replays) == (3 if applied else 2)  # (the first,) settle, the commit
        assert all(replay == error.request for replay in replays)
        assert _wallet(recording, "u1")["balance"] == {"N": "5"}  # type: ignore[index]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("first", "state"),
    [("throttled", UnitState.FAILED), ("timeout_after", UnitState.UNKNOWN)],
)
def test_a_commit_cancelled_in_its_backoff_is_judged_by_the_outcome_rules(
    first: str, state: UnitState
) -> None:
    """Throttled then cancelled: nothing can have been applied (FAILED, INTERRUPTED).
    A lost answer then cancelled: it may have been (UNKNOWN)."""
    recording = RecordingProvider(EmbeddedProvider())
    gate = Gate(recording, "TransactWriteItems", applied=False)
    gate.holding = False
    gate.fail_first = first
    sleeping = asyncio.Event()

    async def sleep(_seconds: float) -> None:
        sleeping.set()
        await asyncio.Event().wait()  # the backoff outlives the task

    async def scenario() -> None:
        service = await _setup(gate, sleep)
        uow = AsyncUnitOfWork(service)
        uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(5)}, upsert=True)
        await _cancel_while(asyncio.create_task(uow.commit()), sleeping)
        assert uow.state is state
        assert uow.error is not None
        if state is UnitState.FAILED:
            assert uow.error.code is ErrorCode.INTERRUPTED
            assert _wallet(recording, "u1") is None
            with pytest.raises(Exception) as caught:
                await uow.commit()
            assert caught.value.code is ErrorCode.INVALID_STATE  # type: ignore[attr-defined]
        else:
            assert isinstance(uow.error, OutcomeUnknownError)
            assert uow.error.token == uow.client_request_token
            assert await service.settle(uow.error) is True
            assert _wallet(recording, "u1")["balance"] == {"N": "5"}  # type: ignore[index]

    asyncio.run(scenario())


@pytest.mark.parametrize("held", ["BatchWriteItem", "PutItem"])
def test_a_cancelled_separate_commit_reports_each_intent(held: str) -> None:
    """atomic=False: the batched puts go first, then the create, then the update (one at
    a time). Cancelled while ``held`` is in flight (it reached the table, its answer did
    not come back): what went before is applied, ``held`` is unknown, the rest was never
    sent; the report says exactly that, and the table agrees."""
    recording = RecordingProvider(EmbeddedProvider())
    gate = Gate(recording, held, applied=True)

    async def scenario() -> None:
        service = await _setup(gate, max_workers=1)
        uow = AsyncUnitOfWork(service, atomic=False)
        uow.put(Wallet(user_id="p1"))
        uow.put(Wallet(user_id="p2"))
        uow.create(Wallet(user_id="c1"))
        uow.update(Wallet, {"user_id": "s1"}, set={"balance": Decimal(3)}, upsert=True)
        await _cancel_while(asyncio.create_task(uow.commit()), gate.entered)

        assert uow.state is UnitState.FAILED
        error = uow.error
        assert isinstance(error, UnprocessedItemsError)
        unknown = [0, 1] if held == "BatchWriteItem" else [2]
        never_sent = [2, 3] if held == "BatchWriteItem" else [3]
        assert [(r.index, r.outcome) for r in error.unprocessed] == sorted(
            [(i, "unknown") for i in unknown] + [(i, "not_applied") for i in never_sent]
        )
        assert error.details["unknown_indexes"] == unknown
        for result in error.unprocessed:
            assert result.error is not None
            if result.index in unknown:
                assert result.error.code is ErrorCode.OUTCOME_UNKNOWN
                assert result.error.details["operation"] == held
            else:
                assert result.error.code is ErrorCode.INTERRUPTED
        # the truth, read from the table: the unknown ones did arrive (settle by reading)
        assert _wallet(recording, "p1") is not None and _wallet(recording, "p2") is not None
        assert (_wallet(recording, "c1") is not None) is (held == "PutItem")
        assert _wallet(recording, "s1") is None
        assert "UpdateItem" not in recording.operations

    asyncio.run(scenario())


def test_a_cancellation_inside_the_block_sends_nothing() -> None:
    recording = RecordingProvider(EmbeddedProvider())
    gate = Gate(recording, "TransactWriteItems", applied=True)
    inside = asyncio.Event()

    async def scenario() -> None:
        service = await _setup(gate)
        uow = AsyncUnitOfWork(service)

        async def work() -> None:
            async with uow:
                uow.put(Wallet(user_id="x"))
                inside.set()
                await asyncio.Event().wait()

        await _cancel_while(asyncio.create_task(work()), inside)
        assert uow.state is UnitState.DISCARDED
        assert uow.error is None
        assert "TransactWriteItems" not in recording.operations

    asyncio.run(scenario())


class Interrupting:
    """A blocking provider: the first TransactWriteItems is forwarded, then the caller is
    interrupted (``KeyboardInterrupt``) before the answer comes back."""

    def __init__(self, inner: RecordingProvider) -> None:
        self.inner = inner
        self.interrupt = True

    def call(self, operation: str, request: Request) -> Response:
        response = self.inner.call(operation, request)
        if operation == "TransactWriteItems" and self.interrupt:
            self.interrupt = False
            raise KeyboardInterrupt
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_blocking_commit_interrupted_in_flight_follows_the_same_rule() -> None:
    recording = RecordingProvider(EmbeddedProvider())
    service = DynamoDBService(Interrupting(recording), retry=FAST, sleep=lambda _s: None)
    service.create_table(table)
    uow = UnitOfWork(service, client_request_token="order-7")
    uow.update(Wallet, {"user_id": "u1"}, add={"balance": Decimal(5)}, upsert=True)
    with pytest.raises(KeyboardInterrupt):
        uow.commit()
    assert uow.state is UnitState.UNKNOWN
    assert isinstance(uow.error, OutcomeUnknownError) and uow.error.token == "order-7"
    uow.commit()  # the replay: DynamoDB answers the first answer, nothing applies twice
    assert uow.state is UnitState.COMMITTED
    first, replay = recording.requests("TransactWriteItems")
    assert first == replay
    assert _wallet(recording, "u1")["balance"] == {"N": "5"}  # type: ignore[index]


class InterruptingUpdate:
    """A blocking provider: the first UpdateItem is forwarded, then KeyboardInterrupt."""

    def __init__(self, inner: RecordingProvider) -> None:
        self.inner = inner
        self.interrupt = True

    def call(self, operation: str, request: Request) -> Response:
        response = self.inner.call(operation, request)
        if operation == "UpdateItem" and self.interrupt:
            self.interrupt = False
            raise KeyboardInterrupt
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_blocking_separate_commit_interrupted_reports_each_intent() -> None:
    recording = RecordingProvider(EmbeddedProvider())
    service = DynamoDBService(
        InterruptingUpdate(recording), retry=FAST, sleep=lambda _s: None, max_workers=1
    )
    service.create_table(table)
    uow = UnitOfWork(service, atomic=False)
    uow.put(Wallet(user_id="p1"))
    uow.update(Wallet, {"user_id": "s1"}, set={"balance": Decimal(3)}, upsert=True)
    uow.create(Wallet(user_id="c1"))
    with pytest.raises(KeyboardInterrupt):
        uow.commit()
    assert uow.state is UnitState.FAILED
    assert isinstance(uow.error, UnprocessedItemsError)
    assert [(r.index, r.outcome) for r in uow.error.unprocessed] == [
        (1, "unknown"),
        (2, "not_applied"),
    ]
    assert _wallet(recording, "p1") is not None
    assert _wallet(recording, "s1") is not None  # it arrived: the unknown was applied
    assert _wallet(recording, "c1") is None and "PutItem" not in recording.operations


class InterruptingBatch:
    """A blocking provider: the first BatchWriteItem hands back the writes of items whose
    key holds ``hand_back`` (forwarding the rest), or, with no ``hand_back``, is
    forwarded whole and then interrupted (``KeyboardInterrupt``) before its answer."""

    def __init__(self, inner: RecordingProvider, hand_back: str | None = None) -> None:
        self.inner = inner
        self.hand_back = hand_back
        self.first = True

    def call(self, operation: str, request: Request) -> Response:
        if operation != "BatchWriteItem" or not self.first:
            return self.inner.call(operation, request)
        self.first = False
        if self.hand_back is None:
            self.inner.call(operation, request)
            raise KeyboardInterrupt
        (name, writes), *_ = request["RequestItems"].items()
        back = [write for write in writes if self.hand_back in str(write)]
        self.inner.call(operation, {"RequestItems": {name: [w for w in writes if w not in back]}})
        return {"UnprocessedItems": {name: back}}

    def close(self) -> None:
        self.inner.close()


def test_a_blocking_separate_commit_interrupted_in_a_batch_reports_each_intent() -> None:
    """KeyboardInterrupt while the BatchWriteItem is on its way (it arrived): its writes
    are unknown, the create never sent is not applied; the table agrees."""
    recording = RecordingProvider(EmbeddedProvider())
    service = DynamoDBService(
        InterruptingBatch(recording), retry=FAST, sleep=lambda _s: None, max_workers=1
    )
    service.create_table(table)
    uow = UnitOfWork(service, atomic=False)
    uow.put(Wallet(user_id="p1"))
    uow.put(Wallet(user_id="p2"))
    uow.create(Wallet(user_id="c1"))
    with pytest.raises(KeyboardInterrupt):
        uow.commit()
    assert uow.state is UnitState.FAILED
    error = uow.error
    assert isinstance(error, UnprocessedItemsError)
    assert [(r.index, r.outcome) for r in error.unprocessed] == [
        (0, "unknown"),
        (1, "unknown"),
        (2, "not_applied"),
    ]
    for result in error.unprocessed[:2]:
        assert isinstance(result.error, OutcomeUnknownError)
        assert result.error.details["operation"] == "BatchWriteItem"
        assert result.error.last_error.code is ErrorCode.INTERRUPTED
    assert error.unprocessed[2].error.code is ErrorCode.INTERRUPTED  # type: ignore[union-attr]
    assert _wallet(recording, "p1") is not None and _wallet(recording, "p2") is not None
    assert _wallet(recording, "c1") is None and "PutItem" not in recording.operations


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_separate_commit_interrupted_in_a_batch_backoff_keeps_what_the_answer_proved(
    api: str,
) -> None:
    """Interrupted while backing off before resending what a BatchWriteItem handed back:
    that answer stands. What it processed is applied (not listed), what it handed back is
    not applied (INTERRUPTED), never unknown: nothing of it was in doubt."""
    recording = RecordingProvider(EmbeddedProvider())
    provider = InterruptingBatch(recording, hand_back="USER#p2")
    armed = [False]

    def interrupt(_seconds: float) -> None:
        if armed[0]:
            raise KeyboardInterrupt

    service = DynamoDBService(provider, retry=FAST, sleep=interrupt, max_workers=1)
    service.create_table(table)
    armed[0] = True

    def add(uow: Any) -> None:
        uow.put(Wallet(user_id="p1"))
        uow.put(Wallet(user_id="p2"))
        uow.create(Wallet(user_id="c1"))

    if api == "sync":
        uow: Any = UnitOfWork(service, atomic=False)
        add(uow)
        with pytest.raises(KeyboardInterrupt):
            uow.commit()
    else:

        async def cancel(_seconds: float) -> None:
            raise asyncio.CancelledError

        async def scenario() -> Any:
            twin = AsyncDynamoDBService(
                _Threaded(provider), retry=FAST, sleep=cancel, max_workers=1
            )
            await twin.create_table(table)
            unit = AsyncUnitOfWork(twin, atomic=False)
            add(unit)
            with pytest.raises(asyncio.CancelledError):
                await unit.commit()
            return unit

        uow = asyncio.run(scenario())
    assert uow.state is UnitState.FAILED
    error = uow.error
    assert isinstance(error, UnprocessedItemsError)
    assert [(r.index, r.outcome) for r in error.unprocessed] == [
        (1, "not_applied"),
        (2, "not_applied"),
    ]
    assert all(r.error.code is ErrorCode.INTERRUPTED for r in error.unprocessed)
    assert _wallet(recording, "p1") is not None
    assert _wallet(recording, "p2") is None and _wallet(recording, "c1") is None


class _Threaded(AsyncClosing):
    """A blocking provider awaited on a worker thread."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        response: Response = await asyncio.to_thread(self.inner.call, operation, request)
        return response

    async def close(self) -> None:
        self.inner.close()
