"""An in-memory stand-in for the batch operations of DynamoDB, for batch unit tests.

It stores items by (table, PK, SK), answers DescribeTable for every table with a PK/SK
string schema, and lets a test decide per call which requests come back unprocessed
(``hold``) or make a whole call fail (``fail``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tctf_dynamo import batch
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.aio import _streams as async_streams
from tctf_dynamo.aio import batch as async_batch
from tctf_dynamo.batch import _streams as streams
from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.providers import MockProvider, RecordingProvider
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.sync.service import DynamoDBService
from tests.aio_support import Blocking, ThreadedAsyncProvider

Hold = Callable[[str, list[Any]], set[int]]
"""(operation, requests of the call) -> positions to hand back unprocessed."""
Fail = Callable[[str, list[Any]], DynamoDBServiceError | None]


def key_of(pk: str, sk: str = "A") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def item_of(pk: str, sk: str = "A", **extra: str) -> dict[str, Any]:
    return {**key_of(pk, sk), **{name: {"S": value} for name, value in extra.items()}}


class FakeDynamo:
    """The handler of a MockProvider; thread-safe, counts concurrent calls."""

    def __init__(self, hold: Hold | None = None, fail: Fail | None = None) -> None:
        self.items: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.hold = hold
        self.fail = fail
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.barrier: threading.Barrier | None = None

    def __call__(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "DescribeTable":
            return {"Table": _description(request["TableName"])}
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=10)
            with self.lock:
                return self._answer(operation, request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        flat = _flatten(operation, request["RequestItems"])
        if self.fail is not None:
            error = self.fail(operation, [entry for _, entry in flat])
            if error is not None:
                raise error
        held = self.hold(operation, [entry for _, entry in flat]) if self.hold else set()
        if operation == "BatchWriteItem":
            return self._write(flat, held)
        return self._get(request["RequestItems"], flat, held)

    def _write(self, flat: list[tuple[str, Any]], held: set[int]) -> dict[str, Any]:
        unprocessed: dict[str, list[Any]] = {}
        for position, (table, write) in enumerate(flat):
            if position in held:
                unprocessed.setdefault(table, []).append(write)
            elif "PutRequest" in write:
                item = write["PutRequest"]["Item"]
                self.items[(table, item["PK"]["S"], item["SK"]["S"])] = item
            else:
                key = write["DeleteRequest"]["Key"]
                self.items.pop((table, key["PK"]["S"], key["SK"]["S"]), None)
        return {"UnprocessedItems": unprocessed}

    def _get(
        self, tables: dict[str, Any], flat: list[tuple[str, Any]], held: set[int]
    ) -> dict[str, Any]:
        responses: dict[str, list[Any]] = {table: [] for table in tables}
        unprocessed: dict[str, Any] = {}
        for position, (table, key) in enumerate(flat):
            if position in held:
                spec = unprocessed.setdefault(table, {**tables[table], "Keys": []})
                spec["Keys"].append(key)
                continue
            item = self.items.get((table, key["PK"]["S"], key["SK"]["S"]))
            if item is not None:
                responses[table].append(item)
        return {"Responses": responses, "UnprocessedKeys": unprocessed}

    def stored(self, table: str = "things") -> dict[tuple[str, str], dict[str, Any]]:
        return {(pk, sk): item for (t, pk, sk), item in self.items.items() if t == table}


def _flatten(operation: str, request_items: dict[str, Any]) -> list[tuple[str, Any]]:
    if operation == "BatchWriteItem":
        return [(table, write) for table, writes in request_items.items() for write in writes]
    return [(table, key) for table, spec in request_items.items() for key in spec["Keys"]]


def _description(table: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "TableStatus": "ACTIVE",
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
    }


def _policy(max_attempts: int) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts, base_delay=0.1, max_delay=1.0, jitter=0.0)


def make_service(
    fake: FakeDynamo,
    *,
    max_attempts: int = 3,
    max_workers: int = 4,
    sleeps: list[float] | None = None,
) -> tuple[DynamoDBService, RecordingProvider]:
    """A service over ``fake`` that records its calls and never really sleeps."""
    recorder = RecordingProvider(MockProvider(fake))
    service = DynamoDBService(
        recorder,
        retry=_policy(max_attempts),
        max_workers=max_workers,
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
        random=lambda: 0.5,
    )
    return service, recorder


class Api:
    """One face of the batch API for a test body written against the blocking one: the
    functions of :mod:`tctf_dynamo.batch` and a DynamoDBService, or their async twins
    (:mod:`tctf_dynamo.aio.batch`, AsyncDynamoDBService) run through ``Blocking``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._runner = asyncio.Runner()
        self._functions: Any = batch if name == "sync" else Blocking(async_batch, self._runner)
        self.streams: Any = streams if name == "sync" else Blocking(async_streams, self._runner)
        """The streamed bulk jobs repositories run on."""

    def service(
        self,
        fake: FakeDynamo,
        *,
        max_attempts: int = 3,
        max_workers: int = 4,
        sleeps: list[float] | None = None,
    ) -> tuple[Any, RecordingProvider]:
        """:func:`make_service` of this API."""
        if self.name == "sync":
            return make_service(
                fake, max_attempts=max_attempts, max_workers=max_workers, sleeps=sleeps
            )

        async def sleep(seconds: float) -> None:
            if sleeps is not None:
                sleeps.append(seconds)

        recorder = RecordingProvider(MockProvider(fake))
        service = AsyncDynamoDBService(
            ThreadedAsyncProvider(recorder),
            retry=_policy(max_attempts),
            max_workers=max_workers,
            sleep=sleep,
            random=lambda: 0.5,
        )
        return Blocking(service, self._runner), recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._functions, name)


@pytest.fixture(name="api", params=["sync", "async"])
def api_fixture(request: pytest.FixtureRequest) -> Api:
    """The batch API under test, blocking or async."""
    return Api(request.param)


def batch_sizes(recorder: RecordingProvider, operation: str) -> list[int]:
    """How many requests each call of ``operation`` carried."""
    return [
        len(_flatten(operation, request["RequestItems"]))
        for request in recorder.requests(operation)
    ]
