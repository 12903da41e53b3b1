"""Breaker state kept in a DynamoDB table: requests, parsing and caching, without I/O.

:class:`StateTable` is everything :class:`~.stores.DynamoDBStateStore` and
:class:`~.async_stores.AsyncDynamoDBStateStore` do, as programs
(:mod:`tctf_dynamo.effects.program`) that yield :class:`~tctf_dynamo.effects.program.Send`
for each request (with its per-call timeout) and :class:`~tctf_dynamo.effects.program.Sleep`
while a new table becomes active. The two stores only perform those effects, on a sync
or an async provider, so the table layout, the condition on the version, the cache and
its rules exist once.

The item of breaker ``name`` is keyed ``key_prefix + name`` (and ``"STATE"`` as sort key
if the table has one); writes are conditional on the version attribute.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from tctf_dynamo import limits
from tctf_dynamo.effects.program import Program, Send, Sleep
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.resilience.state import BreakerState, CircuitState

__all__ = ["DEFAULT_KEY_PREFIX", "StateTable", "ensure_table"]

DEFAULT_KEY_PREFIX: Final = limits.RESERVED_KEY_PREFIX + "breaker__#"
"""Where breaker items live in a table shared with entities: a prefix no entity may use."""

_STATE_SORT_KEY: Final = "STATE"
_TABLE_READY_TIMEOUT_SECONDS: Final = 60.0
_TABLE_READY_POLL_SECONDS: Final = 0.5


class StateTable:
    """One store's table: its key schema (read on first use when not given) and a read
    cache of ``cache_ttl`` seconds on ``clock``."""

    def __init__(
        self,
        table_name: str,
        *,
        key_prefix: str,
        partition_key: str | None,
        sort_key: str | None,
        cache_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self.table_name = table_name
        self._key_prefix = key_prefix
        self._schema: tuple[str, str | None] | None = (
            (partition_key, sort_key) if partition_key is not None else None
        )
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, BreakerState | None]] = {}

    def load(self, name: str, timeout: float | None) -> Program[BreakerState | None]:
        """The stored state (cached for ``cache_ttl``), None if never written."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self._cache_ttl:
            return cached[1]
        key = yield from self._key(name, timeout)
        request = {"TableName": self.table_name, "Key": key, "ConsistentRead": True}
        response = yield Send("GetItem", request, timeout)
        item = response.get("Item")
        state = _decode(item) if item else None
        self._remember(name, state)
        return state

    def compare_and_set(
        self, name: str, expected_version: int | None, new: BreakerState, timeout: float | None
    ) -> Program[bool]:
        """Write ``new`` if the stored version is ``expected_version``; whether it was."""
        key = yield from self._key(name, timeout)
        request = _conditional_put(self.table_name, key, new, expected_version)
        try:
            yield Send("PutItem", request, timeout)
        except DynamoDBServiceError as error:
            if error.code is ErrorCode.CONDITION_FAILED:
                self.invalidate(name)
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

    def _key(self, name: str, timeout: float | None) -> Program[dict[str, Any]]:
        schema = self._schema
        if schema is None:
            schema = yield from _key_attributes(self.table_name, timeout)
            self._schema = schema
        partition_key, sort_key = schema
        key: dict[str, Any] = {partition_key: {"S": self._key_prefix + name}}
        if sort_key is not None:
            key[sort_key] = {"S": _STATE_SORT_KEY}
        return key


def ensure_table(table_name: str, partition_key: str) -> Program[None]:
    """Create a dedicated on-demand table (partition key only) unless it exists, and
    wait until it is active."""
    if not (yield from _table_exists(table_name)):
        yield from _create(table_name, partition_key)
    waited = 0.0
    while True:
        response = yield Send("DescribeTable", {"TableName": table_name})
        if response.get("Table", {}).get("TableStatus", "ACTIVE") == "ACTIVE":
            return
        if waited >= _TABLE_READY_TIMEOUT_SECONDS:
            raise error_for(
                ErrorCode.TIMEOUT,
                f"breaker table not active after {_TABLE_READY_TIMEOUT_SECONDS}s",
                {"waited": waited},
            )
        yield Sleep(_TABLE_READY_POLL_SECONDS)
        waited += _TABLE_READY_POLL_SECONDS


def _conditional_put(
    table_name: str, key: dict[str, Any], new: BreakerState, expected_version: int | None
) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": table_name, "Item": {**key, **_encode(new)}}
    if expected_version is None:
        request["ConditionExpression"] = "attribute_not_exists(#pk)"
        request["ExpressionAttributeNames"] = {"#pk": next(iter(key))}
    else:
        request["ConditionExpression"] = "#v = :expected"
        request["ExpressionAttributeNames"] = {"#v": "version"}
        request["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
    return request


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


def _key_attributes(table_name: str, timeout: float | None) -> Program[tuple[str, str | None]]:
    """The table's partition and sort key attribute names, read with DescribeTable."""
    response = yield Send("DescribeTable", {"TableName": table_name}, timeout)
    ordered = sorted(
        response["Table"]["KeySchema"], key=lambda k: 0 if k["KeyType"] == "HASH" else 1
    )
    names = [entry["AttributeName"] for entry in ordered]
    return names[0], names[1] if len(names) > 1 else None


def _table_exists(table_name: str) -> Program[bool]:
    try:
        yield Send("DescribeTable", {"TableName": table_name})
    except DynamoDBServiceError as error:
        if error.code is ErrorCode.TABLE_NOT_FOUND:
            return False
        raise
    return True


def _create(table_name: str, partition_key: str) -> Program[None]:
    request = {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": partition_key, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": partition_key, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    try:
        yield Send("CreateTable", request)
    except DynamoDBServiceError:
        if not (yield from _table_exists(table_name)):  # lost a race to another creator
            raise
