"""Deadlines over HTTP: a server that never answers, on every entry point taking a timeout.

Between the client and moto server sits the fault proxy: in ``hang`` mode it reads every
request and never answers; with a queued ``HANG_AFTER`` the first request is applied and
its answer never comes. The promise under test is the deadline itself: the call ends
within ``timeout + SLACK`` seconds, on the fast path and on botocore's, and a hung first
attempt of a read or an idempotent write is retried inside the deadline and succeeds.

The async service's plain item API and its repositories are entry points too, on the
real async transports: ``fast`` is ``AsyncDynamoDBService.from_endpoint`` (aiohttp),
``botocore`` the aiobotocore provider; their event loop and sockets are the ones a
caller's would be. Each call is made once before the fault, so what is timed is the
operation, not a client's one-time setup on its first call. The full matrix runs
for 0.5 s; 2 s and 5 s run a representative subset, since each hang costs its whole
deadline in wall time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Entity, Repository, RetryPolicy, Table, UnitOfWork
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncRepository
from tctf_dynamo.errors import ErrorCode, OutcomeUnknownError, TransientError
from tctf_dynamo.providers.botocore_async import AsyncBotocoreProvider
from tests.aio_support import Blocking
from tests.faultproxy import HANG_AFTER, FaultProxy, ProxyMode

pytestmark = pytest.mark.server

SLACK = 0.25
"""Seconds a call may end after its deadline: thread scheduling, signing and the last
socket timeout's own granularity on a loaded machine."""
SERVICE_TIMEOUT = 30.0
"""The service's own timeout, far longer than any deadline under test, so an override
that did not reach the socket would show as a call running long past its deadline."""

TABLE = Table(f"deadlines-{uuid.uuid4().hex[:8]}")


class Ticket(Entity, table=TABLE, pk="TICKET#{ticket_id}", sk="META"):
    ticket_id: str
    seats: int = 1


@pytest.fixture(scope="module")
def table(moto_endpoint: str) -> Iterator[Table]:
    service = DynamoDBService.from_endpoint(moto_endpoint, **_credentials())
    service.create_table(TABLE)
    Repository(Ticket, service).put(Ticket(ticket_id="t1", seats=2))
    yield TABLE
    service.delete_table(TABLE, missing_ok=True)
    service.close()


def _credentials() -> dict[str, str]:
    return {"region_name": "us-east-1", "aws_access_key_id": "k", "aws_secret_access_key": "s"}


_OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_services() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def _service(proxy: FaultProxy, fast_path: bool, timeout: float) -> DynamoDBService:
    service = DynamoDBService.from_endpoint(
        proxy.endpoint, timeout=timeout, fast_path=fast_path, **_credentials()
    )
    _OPENED.append(service)
    service.key_schema(TABLE)  # known from the definition: nothing to describe later
    return service


# Each entry point prepares a call that reads a ticket (or writes one) under ``timeout``;
# building the service (a botocore client) is not part of the call being timed.

Call = Callable[[], Any]


def _constructor(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    service = _service(proxy, fast, timeout)
    if write:
        return lambda: Repository(Ticket, service).put(Ticket(ticket_id="t2"))
    return lambda: service.get_item(TABLE, {"PK": "TICKET#t1", "SK": "META"})


def _with_options(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    service = _service(proxy, fast, SERVICE_TIMEOUT).with_options(timeout=timeout)
    if write:
        item = {"PK": "TICKET#t3", "SK": "META", "seats": 1}
        return lambda: service.put_item(TABLE, item) or "put"
    return lambda: service.get_item(TABLE, {"PK": "TICKET#t1", "SK": "META"})


def _execute(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    service = _service(proxy, fast, SERVICE_TIMEOUT)
    if write:
        item = {"PK": {"S": "TICKET#t4"}, "SK": {"S": "META"}, "seats": {"N": "1"}}
        put = {"TableName": TABLE.name, "Item": item}
        return lambda: service.execute("PutItem", put, timeout=timeout)
    get = {"TableName": TABLE.name, "Key": {"PK": {"S": "TICKET#t1"}, "SK": {"S": "META"}}}
    return lambda: service.execute("GetItem", get, timeout=timeout)


def _repository(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    repository = Repository(Ticket, _service(proxy, fast, SERVICE_TIMEOUT), timeout=timeout)
    if write:
        return lambda: repository.put(Ticket(ticket_id="t5"))
    return lambda: repository.get(ticket_id="t1")


def _async_service(proxy: FaultProxy, fast: bool, timeout: float) -> Blocking:
    """An async service through the proxy on a real async transport, on its own loop."""
    runner = asyncio.Runner()
    _OPENED.append(runner)
    face = Blocking(None, runner)
    if fast:
        service = AsyncDynamoDBService.from_endpoint(
            proxy.endpoint, timeout=timeout, **_credentials()
        )
    else:
        provider = runner.run(
            AsyncBotocoreProvider.from_endpoint(
                proxy.endpoint, read_timeout=timeout, **_credentials()
            )
        )
        service = AsyncDynamoDBService(provider, timeout=timeout)
    _OPENED.append(_Closer(face, service))
    face.run(service.key_schema(TABLE))  # known from the definition: nothing to describe
    return face.face(service)


class _Closer:
    """Closes an async service on its own loop (before the loop itself is closed)."""

    def __init__(self, face: Blocking, service: AsyncDynamoDBService) -> None:
        self._face, self._service = face, service

    def close(self) -> None:
        self._face.run(self._service.close())


def _async_repository(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    service = _async_service(proxy, fast, SERVICE_TIMEOUT)
    repository = service.face(AsyncRepository(Ticket, service.target, timeout=timeout))
    if write:
        return lambda: repository.put(Ticket(ticket_id="t7"))
    return lambda: repository.get(ticket_id="t1")


def _unit_of_work(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    service = _service(proxy, fast, SERVICE_TIMEOUT)

    def commit() -> Any:  # always a write: one transaction
        with UnitOfWork(service, timeout=timeout) as uow:
            uow.put(Ticket(ticket_id="t6"))
        return uow.committed

    return commit


def _async_constructor(proxy: FaultProxy, fast: bool, timeout: float, write: bool) -> Call:
    """The async service's plain item API, built with the timeout under test."""
    service = _async_service(proxy, fast, timeout)
    if write:
        item = {"PK": "TICKET#t7", "SK": "META", "seats": 1}
        return lambda: service.put_item(TABLE, item) or "put"
    return lambda: service.get_item(TABLE, {"PK": "TICKET#t1", "SK": "META"})


ENTRY_POINTS: dict[str, Callable[[FaultProxy, bool, float, bool], Call]] = {
    "constructor": _constructor,
    "async_constructor": _async_constructor,
    "with_options": _with_options,
    "execute": _execute,
    "repository": _repository,
    "async_repository": _async_repository,
    "unit_of_work": _unit_of_work,
}
WRITE_OPERATION = {"unit_of_work": "TransactWriteItems"}
PATHS = {"fast": True, "botocore": False}

FULL = [(0.5, entry, path) for entry in ENTRY_POINTS for path in PATHS]
SUBSET = [
    (2.0, "constructor", "fast"),
    (2.0, "async_constructor", "botocore"),
    (2.0, "repository", "botocore"),
    (2.0, "unit_of_work", "fast"),
    (5.0, "execute", "botocore"),
    (5.0, "with_options", "fast"),
]
CASES = FULL + SUBSET


def _ids(case: tuple[float, str, str]) -> str:
    return f"{case[0]}s-{case[1]}-{case[2]}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_a_server_that_never_answers_ends_the_call_on_its_deadline(
    fault_proxy: FaultProxy, table: Table, case: tuple[float, str, str]
) -> None:
    timeout, entry, path = case
    call = ENTRY_POINTS[entry](fault_proxy, PATHS[path], timeout, entry == "unit_of_work")
    call()  # warm: a client's first call also resolves its endpoint rules and signer
    fault_proxy.set_mode(ProxyMode.HANG)
    started = time.monotonic()
    with pytest.raises((TransientError, OutcomeUnknownError)) as raised:
        call()
    elapsed = time.monotonic() - started
    if entry == "unit_of_work":  # a write sent and never answered may have been applied
        assert raised.value.code is ErrorCode.OUTCOME_UNKNOWN
    else:
        assert raised.value.code in {ErrorCode.TIMEOUT, ErrorCode.RETRIES_EXHAUSTED}
    assert elapsed <= timeout + SLACK, f"took {elapsed:.3f}s for a {timeout}s deadline"
    hung = sum(stats.hung for stats in fault_proxy.all_stats().values())
    assert hung >= 2  # hung attempts were abandoned and retried


RETRY_CASES = [
    *[
        (0.5, entry, path, write)
        for entry in ENTRY_POINTS
        for path in PATHS
        for write in (0, 1)
        if write or entry != "unit_of_work"  # a unit of work only writes
    ],
    (2.0, "repository", "fast", 1),
    (5.0, "execute", "botocore", 0),
]


@pytest.mark.parametrize(
    "case", RETRY_CASES, ids=[f"{_ids(c[:3])}-{'write' if c[3] else 'read'}" for c in RETRY_CASES]
)
def test_a_hung_first_attempt_is_retried_inside_the_deadline(
    fault_proxy: FaultProxy, table: Table, case: tuple[float, str, str, int]
) -> None:
    timeout, entry, path, write = case
    operation = WRITE_OPERATION.get(entry, "PutItem") if write else "GetItem"
    call = ENTRY_POINTS[entry](fault_proxy, PATHS[path], timeout, bool(write))
    call()  # warm: a client's first call also resolves its endpoint rules and signer
    fault_proxy.fail_next(operation, HANG_AFTER)
    started = time.monotonic()
    result = call()
    elapsed = time.monotonic() - started
    assert result is not None
    assert elapsed <= timeout + SLACK, f"took {elapsed:.3f}s for a {timeout}s deadline"
    assert fault_proxy.stats(operation).arrived == 3  # warm-up, the hung one, the retry


BACKING_OFF = RetryPolicy(max_attempts=50, base_delay=0.3, max_delay=2.0)
"""Far more attempts and backoff than any deadline under test leaves room for."""


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("mode", [ProxyMode.UNAVAILABLE, ProxyMode.SLOW])
def test_retries_and_backoff_end_on_the_deadline(
    fault_proxy: FaultProxy, table: Table, api: str, mode: ProxyMode
) -> None:
    """Every attempt fails fast (503) or answers late (slow): the retries and the sleeps
    between them end when the deadline does, never at the policy's last attempt."""
    timeout = 1.0
    if api == "sync":
        service: Any = _service(fault_proxy, True, SERVICE_TIMEOUT)
    else:
        service = _async_service(fault_proxy, True, SERVICE_TIMEOUT)
    service = service.with_options(timeout=timeout, retry=BACKING_OFF)
    key = {"PK": "TICKET#t1", "SK": "META"}
    service.get_item(TABLE, key)  # warm
    fault_proxy.set_mode(mode, seconds=timeout * 3)
    started = time.monotonic()
    with pytest.raises((TransientError, OutcomeUnknownError)) as raised:
        service.get_item(TABLE, key)
    elapsed = time.monotonic() - started
    assert raised.value.code in {ErrorCode.TIMEOUT, ErrorCode.RETRIES_EXHAUSTED}
    assert elapsed <= timeout + SLACK, f"took {elapsed:.3f}s for a {timeout}s deadline"
    assert fault_proxy.stats("GetItem").arrived >= 2  # it did retry
