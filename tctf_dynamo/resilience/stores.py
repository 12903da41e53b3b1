"""Where circuit breaker state lives: in memory, or in DynamoDB shared by every process.

A store only loads a state and replaces it by compare-and-set on its version; all the
breaker's logic lives in :mod:`.breaker`. The DynamoDB store talks to the provider
directly, never through the breaker or the retry pipeline: the breaker must not guard,
retry or count its own bookkeeping. ``timeout`` on each method is the time the breaker
can spare for that call from the operation it is deciding about; the DynamoDB store
passes it to the provider as the request's socket timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.providers.base import Provider, send
from tctf_dynamo.resilience.state import BreakerState, CircuitState

__all__ = [
    "RESERVED_KEY_PREFIX",
    "DynamoDBStateStore",
    "MemoryStateStore",
    "StateStore",
]

RESERVED_KEY_PREFIX = limits.RESERVED_KEY_PREFIX
"""Keys starting with this belong to the library (breaker state); entities may not use it."""

_STATE_SORT_KEY: Final = "STATE"
_TABLE_READY_TIMEOUT_SECONDS: Final = 60.0


class StateStore(Protocol):
    """Keeps breaker states by name."""

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        """The stored state of breaker ``name``, or None if it was never written."""
        ...

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Store ``new`` if the stored version is ``expected_version`` (None: nothing
        stored yet); return whether it was stored."""
        ...


class MemoryStateStore:
    """A thread-safe store for one process; the default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, BreakerState] = {}

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        with self._lock:
            return self._states.get(name)

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        with self._lock:
            current = self._states.get(name)
            if (current.version if current else None) != expected_version:
                return False
            self._states[name] = new
            return True

    def invalidate(self, name: str | None = None) -> None:
        """Nothing is cached: every load is current."""


class DynamoDBStateStore:
    """Breaker state as one item per breaker, shared by every process using the table.

    The item's key is ``key_prefix + name`` (and ``"STATE"`` as sort key if the table has
    one); writes are conditional on the version attribute, so concurrent processes agree
    on every transition. Reads are cached for ``cache_ttl`` seconds so the breaker does
    not add a read to every operation; another process's change is therefore seen at
    most ``cache_ttl`` seconds late. A lost compare-and-set drops the cached entry.

    ``partition_key=None`` reads the table's key attributes with DescribeTable on first
    use (inside that call's time), so building a store never waits on the network.
    """

    def __init__(
        self,
        provider: Provider,
        table_name: str,
        *,
        key_prefix: str = RESERVED_KEY_PREFIX + "breaker__#",
        partition_key: str | None = "PK",
        sort_key: str | None = "SK",
        cache_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self.table_name = table_name
        self._key_prefix = key_prefix
        self._schema: tuple[str, str | None] | None = (
            (partition_key, sort_key) if partition_key is not None else None
        )
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, BreakerState | None]] = {}

    @classmethod
    def create_table(
        cls,
        provider: Provider,
        table_name: str,
        *,
        partition_key: str = "PK",
        sleep: Callable[[float], object] = time.sleep,
        **options: Any,
    ) -> DynamoDBStateStore:
        """Create a dedicated on-demand table (partition key only) unless it exists,
        wait until it is active, and return a store using it."""
        if not _table_exists(provider, table_name):
            _create(provider, table_name, partition_key)
        _wait_active(provider, table_name, sleep)
        return cls(provider, table_name, partition_key=partition_key, sort_key=None, **options)

    def load(self, name: str, *, timeout: float | None = None) -> BreakerState | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self._cache_ttl:
            return cached[1]
        key = self._key(name, timeout)
        request = {"TableName": self.table_name, "Key": key, "ConsistentRead": True}
        response = send(self._provider, "GetItem", request, timeout)
        item = response.get("Item")
        state = _decode(item) if item else None
        self._remember(name, state)
        return state

    def compare_and_set(
        self,
        name: str,
        expected_version: int | None,
        new: BreakerState,
        *,
        timeout: float | None = None,
    ) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {**self._key(name, timeout), **_encode(new)},
        }
        if expected_version is None:
            request["ConditionExpression"] = "attribute_not_exists(#pk)"
            request["ExpressionAttributeNames"] = {"#pk": next(iter(request["Item"]))}
        else:
            request["ConditionExpression"] = "#v = :expected"
            request["ExpressionAttributeNames"] = {"#v": "version"}
            request["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        try:
            send(self._provider, "PutItem", request, timeout)
        except DynamoDBServiceError as error:
            if error.code is ErrorCode.CONDITION_FAILED:
                with self._lock:
                    self._cache.pop(name, None)
                return False
            raise
        self._remember(name, new)
        return True

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached states (one breaker's, or all) so the next load reads the table."""
        with self._lock:
            if name is None:
                self._cache.clear()
            else:
                self._cache.pop(name, None)

    def _remember(self, name: str, state: BreakerState | None) -> None:
        """Cache ``state`` unless a newer version is cached already: a read that was in
        flight while this process changed the state must not bring the old one back."""
        if self._cache_ttl > 0:
            with self._lock:
                cached = self._cache.get(name)
                newer = cached[1] if cached is not None else None
                if newer is not None and (state is None or state.version < newer.version):
                    return
                self._cache[name] = (self._clock(), state)

    def _key(self, name: str, timeout: float | None) -> dict[str, Any]:
        schema = self._schema
        if schema is None:
            schema = self._schema = _key_attributes(self._provider, self.table_name, timeout)
        partition_key, sort_key = schema
        key: dict[str, Any] = {partition_key: {"S": self._key_prefix + name}}
        if sort_key is not None:
            key[sort_key] = {"S": _STATE_SORT_KEY}
        return key


def _encode(state: BreakerState) -> dict[str, Any]:
    item: dict[str, Any] = {
        "breaker_state": {"S": state.state.value},
        "failures": {"L": [{"N": repr(moment)} for moment in state.failures]},
        "version": {"N": str(state.version)},
    }
    if state.opened_at is not None:
        item["opened_at"] = {"N": repr(state.opened_at)}
    if state.probe_started_at is not None:
        item["probe_started_at"] = {"N": repr(state.probe_started_at)}
    return item


def _decode(item: dict[str, Any]) -> BreakerState:
    def number(name: str) -> float | None:
        value = item.get(name)
        return float(value["N"]) if value else None

    return BreakerState(
        state=CircuitState(item["breaker_state"]["S"]),
        failures=tuple(float(entry["N"]) for entry in item["failures"]["L"]),
        opened_at=number("opened_at"),
        probe_started_at=number("probe_started_at"),
        version=int(item["version"]["N"]),
    )


def _key_attributes(
    provider: Provider, table_name: str, timeout: float | None
) -> tuple[str, str | None]:
    """The table's partition and sort key attribute names, read with DescribeTable."""
    table = send(provider, "DescribeTable", {"TableName": table_name}, timeout)["Table"]
    ordered = sorted(table["KeySchema"], key=lambda k: 0 if k["KeyType"] == "HASH" else 1)
    names = [entry["AttributeName"] for entry in ordered]
    return names[0], names[1] if len(names) > 1 else None


def _table_exists(provider: Provider, table_name: str) -> bool:
    try:
        provider.call("DescribeTable", {"TableName": table_name})
    except DynamoDBServiceError as error:
        if error.code is ErrorCode.TABLE_NOT_FOUND:
            return False
        raise
    return True


def _create(provider: Provider, table_name: str, partition_key: str) -> None:
    try:
        provider.call(
            "CreateTable",
            {
                "TableName": table_name,
                "AttributeDefinitions": [{"AttributeName": partition_key, "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": partition_key, "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
    except DynamoDBServiceError:
        if not _table_exists(provider, table_name):  # lost a race to another creator: fine
            raise


def _wait_active(provider: Provider, table_name: str, sleep: Callable[[float], object]) -> None:
    waited = 0.0
    while True:
        table = provider.call("DescribeTable", {"TableName": table_name}).get("Table", {})
        if table.get("TableStatus", "ACTIVE") == "ACTIVE":
            return
        if waited >= _TABLE_READY_TIMEOUT_SECONDS:
            raise error_for(
                ErrorCode.TIMEOUT,
                f"breaker table not active after {_TABLE_READY_TIMEOUT_SECONDS}s",
                {"waited": waited},
            )
        sleep(0.5)
        waited += 0.5
