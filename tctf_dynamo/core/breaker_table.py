"""How a service's ``breaker_table=`` becomes its circuit breaker, for both APIs.

One rule for :class:`~tctf_dynamo.DynamoDBService` and
:class:`~tctf_dynamo.aio.AsyncDynamoDBService`: which table and key attributes the
breaker's state store uses. Each shell only says which store class talks to its
provider (a blocking one, or an awaited one, so the event loop never waits on the
breaker), and checks the store as its API allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tctf_dynamo.model import Table
from tctf_dynamo.resilience import CircuitBreaker, EventSink
from tctf_dynamo.validation import validate_table_name

if TYPE_CHECKING:
    from tctf_dynamo.providers.base import AsyncProvider, Provider
    from tctf_dynamo.resilience import AsyncStateStore, StateStore

__all__ = ["StateStoreType", "TableRef", "breaker_for_table"]

TableRef = Table | str


class StateStoreType(Protocol):
    """How :func:`breaker_for_table` builds a store: the constructor that
    :class:`~tctf_dynamo.resilience.DynamoDBStateStore` and its async twin share."""

    def __call__(
        self,
        provider: Any,
        table_name: str,
        *,
        partition_key: str | None = ...,
        sort_key: str | None = ...,
    ) -> StateStore | AsyncStateStore: ...


def breaker_for_table(
    store_type: StateStoreType,
    provider: Provider | AsyncProvider,
    table: TableRef,
    events: EventSink | None,
) -> CircuitBreaker:
    """The circuit breaker a service builds from ``breaker_table=``, for both APIs.

    Its state lives under the reserved key prefix of the named table, whatever its key
    attributes: a dedicated table made by ``DynamoDBStateStore.create_table``, or an
    entity table (given as a :class:`Table`, or by name and then described on first
    use, inside that use's time budget). ``store_type`` is the shell's store, talking to
    the shell's own ``provider``: the sync service's blocks, the async service's is
    awaited, so a breaker never makes the event loop wait. Nothing is sent here.
    """
    if isinstance(table, Table):
        store = store_type(provider, table.name, partition_key=table.pk, sort_key=table.sk)
    else:
        validate_table_name(table)
        store = store_type(provider, table, partition_key=None)
    return CircuitBreaker(store, events=events)
