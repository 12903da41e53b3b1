"""What a service decides, as programs: the half the sync and the async service share.

:class:`ServiceCore` holds a service's configuration (pipeline, schema cache, value
policy, cursors, events) and states each service operation as a program (see
:mod:`tctf_dynamo.effects.program`): ``execute_program``, ``transact_write_program``,
``describe_table_program`` and so on. :class:`~tctf_dynamo.sync.service.DynamoDBService` runs
them blocking and :class:`~tctf_dynamo.aio.AsyncDynamoDBService` awaits them; neither
adds a rule. Layers above (plain items, repositories, units of work, batches) write
their own programs on top of these and so serve both APIs too.
"""

from __future__ import annotations

import random as _random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self, TypeVar

from tctf_dynamo.core.breaker_table import TableRef, breaker_for_table
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.sending import WRITE_OPERATIONS, Answer, write_kind, write_program
from tctf_dynamo.core.transactions import check_transaction_actions
from tctf_dynamo.effects.program import Program, Sleep
from tctf_dynamo.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
    OutcomeUnknownError,
    TransactionCancelledError,
    error_for,
)
from tctf_dynamo.model import Table
from tctf_dynamo.resilience import (
    CircuitBreaker,
    ConsumedCapacity,
    Deadline,
    EventSink,
    ResiliencePipeline,
    RetryPolicy,
    publish,
)
from tctf_dynamo.resilience.deadline import operation_scope
from tctf_dynamo.validation import (
    IndexSchemas,
    KeyAttribute,
    UnsafeValuePolicy,
    validate_client_request_token,
    validate_table_name,
)

if TYPE_CHECKING:
    from tctf_dynamo.core.breaker_table import StateStoreType
    from tctf_dynamo.core.dryrun import DryRun
    from tctf_dynamo.pagination import CursorCodec
    from tctf_dynamo.providers.base import AsyncProvider, Provider
    from tctf_dynamo.providers.dryrun import AsyncDryRunProvider, DryRunProvider

__all__ = [
    "CAPACITY_OPERATIONS",
    "DEFAULT_TIMEOUT_SECONDS",
    "ServiceCore",
    "TableRef",
    "table_name_of",
]

T = TypeVar("T")
DEFAULT_TIMEOUT_SECONDS = 30.0
TABLE_WAIT_SECONDS = DEFAULT_TIMEOUT_SECONDS * 10
CAPACITY_OPERATIONS = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
        "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
    }
)  # fmt: skip


def table_name_of(table: TableRef) -> str:
    """The name of a :class:`Table` or a bare table name, checked."""
    if isinstance(table, Table):
        return table.name
    validate_table_name(table)
    return table


class ServiceCore:
    """A service's configuration and its operations as programs; no I/O.

    Subclasses are the shells: they own a provider and perform effects.
    """

    def __init__(
        self,
        provider: Provider | AsyncProvider,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        breaker: CircuitBreaker | None = None,
        unsafe_values: UnsafeValuePolicy | None = None,
        events: EventSink | None = None,
        cursors: CursorCodec | None = None,
        breaker_table: TableRef | None = None,
        consumed_capacity: bool = False,
        max_workers: int = 8,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        _pipeline: ResiliencePipeline | None = None,
        _schemas: dict[str, list[KeyAttribute]] | None = None,
        _indexes: dict[str, IndexSchemas] | None = None,
        _blocking_sleep: Callable[[float], object] = time.sleep,
        **shell_options: Any,
    ) -> None:
        """``shell_options`` are the shell's own constructor options (its ``sleep``),
        kept so that :meth:`with_options` can build the same shell again;
        ``_blocking_sleep`` is what the pipeline's blocking driver sleeps with.
        ``breaker_table`` (when ``breaker`` is not given) builds the breaker with
        :func:`breaker_for_table` on the shell's :meth:`state_store_type`; the shell
        checks its store (``_unchecked_breaker``) as its API allows."""
        if max_workers < 1:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                "max_workers must be at least 1",
                {"max_workers": max_workers},
            )
        self._unchecked_breaker: CircuitBreaker | None = None
        """A breaker built from ``breaker_table`` whose store was not checked yet."""
        if breaker is None and breaker_table is not None:
            store_type = self.state_store_type()
            breaker = breaker_for_table(store_type, provider, breaker_table, events)
            self._unchecked_breaker = breaker
        self.unsafe_values = unsafe_values if unsafe_values is not None else UnsafeValuePolicy()
        self.max_workers = max_workers
        self.random = random
        self.clock = clock
        self.events = events
        self._cursors = cursors
        self._consumed_capacity = consumed_capacity
        self._init_args: dict[str, Any] = {
            "cursors": cursors,
            "consumed_capacity": consumed_capacity,
            "timeout": timeout,
            "breaker": breaker,
            "unsafe_values": self.unsafe_values,
            "events": events,
            "max_workers": max_workers,
            "clock": clock,
            "random": random,
            **shell_options,
        }
        self._pipeline = _pipeline or ResiliencePipeline(
            provider,  # type: ignore[arg-type]  # the pipeline's own blocking driver is unused by async shells
            retry=retry if retry is not None else RetryPolicy(),
            timeout=timeout,
            breaker=breaker,
            clock=clock,
            random=random,
            events=events,
            sleep=_blocking_sleep,
        )
        self._schemas: dict[str, list[KeyAttribute]] = _schemas if _schemas is not None else {}
        self._indexes: dict[str, IndexSchemas] = _indexes if _indexes is not None else {}
        self._schemas_lock = threading.Lock()

    @classmethod
    def state_store_type(cls) -> StateStoreType:
        """The DynamoDB state store of this shell's API, for ``breaker_table``."""
        raise NotImplementedError

    def dry_run(self) -> DryRun[Self]:
        """A dry run: a copy of this service that records its requests instead of sending.

        Everything above the backend is this service's own (validation, request
        building, options), so the requests are exactly those a real call sends; the
        network, the breaker and its store, events and retries are never touched. The
        copy is of this service's API: an async service's dry run is awaited as it is.
        See ``docs/dry-runs.md``.
        """
        from tctf_dynamo.core.dryrun import DryRun

        recorder, sender = self._dry_run_providers()
        return DryRun(self, recorder, sender)

    @classmethod
    def _dry_run_providers(cls) -> tuple[DryRunProvider, DryRunProvider | AsyncDryRunProvider]:
        """A dry run's recorder, and the provider of this shell's API that hands it calls."""
        raise NotImplementedError

    @property
    def pipeline(self) -> ResiliencePipeline:
        """The resilience pipeline shared by every call of this service."""
        return self._pipeline

    @property
    def cursors(self) -> CursorCodec:
        """The codec of pagination cursors; configure it with ``cursors=CursorCodec(...)``."""
        if self._cursors is None:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                "paging with cursors needs cursor keys: pass cursors=CursorCodec([...]) or "
                "CursorCodec.from_env() to the service (see docs/pagination.md)",
            )
        return self._cursors

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: float | None = None
    ) -> Self:
        """A derived service: same backend, breaker and schema cache, other defaults."""
        pipeline = self._pipeline.with_options(retry=retry, timeout=timeout)
        return type(self)(
            self._pipeline.provider,
            **self._init_args,
            _pipeline=pipeline,
            _schemas=self._schemas,
            _indexes=self._indexes,
        )

    def with_retry(self, retry: RetryPolicy) -> Self:
        """A service sharing this one's backend and breaker, with another retry policy."""
        return self.with_options(retry=retry)

    @contextmanager
    def operation(self, *, timeout: float | None = None) -> Iterator[Deadline]:
        """One deadline (``timeout`` or this service's) for every call made inside.

        For work done on behalf of one operation: a write and the read that returns its
        result, or the DescribeTable a table name needs and the call that needed it.
        Calls inside keep their own, shorter, deadlines. Usable inside programs too.
        """
        with operation_scope(self._pipeline.deadline(timeout)) as deadline:
            yield deadline

    # sending -----------------------------------------------------------------------------

    def execute_program(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        idempotency: Idempotency | None = None,
    ) -> Program[dict[str, Any]]:
        """A wire request through breaker, retries and deadline; no validation.

        Writes follow the outcome rules (docs/outcomes.md): what keeps a resend from
        applying twice is ``idempotency`` if given, else read from the request; a write
        that may have been applied when the operation ends raises OUTCOME_UNKNOWN.
        """
        capacity = self._consumed_capacity and operation in CAPACITY_OPERATIONS
        if capacity:
            request = {**request, "ReturnConsumedCapacity": "TOTAL"}
        if operation in WRITE_OPERATIONS:
            kind = idempotency if idempotency is not None else write_kind(operation, request)
            program = write_program(
                self._pipeline, operation, request, kind, retry=retry, timeout=timeout
            )
        else:
            program = self._pipeline.call_program(
                operation, request, retry=retry, timeout=timeout, table=request.get("TableName")
            )
        # a plain function returning the program, not a generator of its own: one layer
        # less on every call (the common case has nothing to do after the response)
        return self._counting_capacity(operation, program) if capacity else program

    def answer_program(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> Program[Answer]:
        """A write sent as :meth:`execute_program` sends it, answered with the doubt an
        earlier attempt left (:class:`~tctf_dynamo.core.sending.Answer`): for callers that
        tell what a response proves from what a lost answer leaves open (batches)."""
        capacity = self._consumed_capacity and operation in CAPACITY_OPERATIONS
        if capacity:
            request = {**request, "ReturnConsumedCapacity": "TOTAL"}
        kind = write_kind(operation, request)
        answer = yield from write_program(
            self._pipeline, operation, request, kind, retry=retry, timeout=timeout, answered=True
        )
        if capacity:
            self._count_capacity(operation, answer.response)
        return answer

    def _counting_capacity(
        self, operation: str, program: Program[dict[str, Any]]
    ) -> Program[dict[str, Any]]:
        response = yield from program
        self._count_capacity(operation, response)
        return response

    def _count_capacity(self, operation: str, response: Mapping[str, Any]) -> None:
        if "ConsumedCapacity" in response:
            self._publish_capacity(operation, response["ConsumedCapacity"])

    def _publish_capacity(self, operation: str, reported: Any) -> None:
        for entry in reported if isinstance(reported, list) else [reported]:
            event = ConsumedCapacity(
                operation=operation,
                table=entry.get("TableName"),
                capacity_units=float(entry.get("CapacityUnits", 0.0)),
                read_capacity_units=entry.get("ReadCapacityUnits"),
                write_capacity_units=entry.get("WriteCapacityUnits"),
            )
            publish(self.events, event)

    # tables ------------------------------------------------------------------------------

    def create_table_program(self, table: Table, *, wait: bool = True) -> Program[None]:
        """Create ``table`` with every index; a table that already exists is left as is."""
        try:
            yield from self.execute_program("CreateTable", table.create_table_request())
        except DynamoDBServiceError as error:
            if error.code is not ErrorCode.TABLE_ALREADY_EXISTS:
                raise
        if wait:
            yield from self._wait_until_active(table.name)
        with self._schemas_lock:
            self._schemas[table.name] = list(table.key_schema)
            self._indexes[table.name] = table.index_key_schemas

    def _wait_until_active(self, name: str) -> Program[None]:
        deadline = self.clock() + TABLE_WAIT_SECONDS
        delay = 0.05
        while True:
            description = yield from self.describe_table_program(name)
            if description.get("TableStatus") == "ACTIVE":
                return
            if self.clock() > deadline:
                raise error_for(
                    ErrorCode.TIMEOUT, "table did not become ACTIVE in time", {"table": name}
                )
            yield Sleep(delay)
            delay = min(delay * 2, 2.0)

    def delete_table_program(self, table: TableRef, *, missing_ok: bool = False) -> Program[None]:
        """Delete a table; with ``missing_ok`` a table that does not exist is not an error."""
        name = table_name_of(table)
        try:
            yield from self.execute_program("DeleteTable", {"TableName": name})
        except DynamoDBServiceError as error:
            if not (missing_ok and error.code is ErrorCode.TABLE_NOT_FOUND):
                raise
        with self._schemas_lock:
            self._schemas.pop(name, None)
            self._indexes.pop(name, None)

    def describe_table_program(self, table: TableRef) -> Program[dict[str, Any]]:
        """The table's description (``Table`` of DescribeTable)."""
        name = table_name_of(table)
        response = yield from self.execute_program("DescribeTable", {"TableName": name})
        description: dict[str, Any] = response["Table"]
        return description

    def key_schema_program(self, table: TableRef) -> Program[list[KeyAttribute]]:
        """The table's primary key attributes, partition first.

        Known from the definition for a :class:`Table`; for a bare name, read once with
        DescribeTable and cached, so key validation needs no per-call round trip.
        """
        known = self.known_key_schema(table)
        if known is not None:
            return known
        yield from self._describe_keys(table_name_of(table))
        with self._schemas_lock:
            return self._schemas[table_name_of(table)]

    def known_key_schema(self, table: TableRef) -> list[KeyAttribute] | None:
        """The key schema if known without a round trip (always for a :class:`Table`)."""
        if isinstance(table, Table):
            schema = list(table.key_schema)
            with self._schemas_lock:
                self._schemas.setdefault(table.name, schema)
                self._indexes.setdefault(table.name, table.index_key_schemas)
            return schema
        validate_table_name(table)
        with self._schemas_lock:
            return self._schemas.get(table)

    def index_schemas_program(self, table: TableRef) -> Program[IndexSchemas]:
        """Key attributes of the table's secondary indexes, by index name.

        From the definition for a :class:`Table`; for a bare name, read with the key schema
        from one DescribeTable and cached, so index keys are checked without a round trip.
        """
        if isinstance(table, Table):
            return table.index_key_schemas
        validate_table_name(table)
        with self._schemas_lock:
            cached = self._indexes.get(table)
        if cached is None:
            yield from self._describe_keys(table)
            with self._schemas_lock:
                cached = self._indexes[table]
        return cached

    def checked_program(
        self,
        check: Callable[
            [Callable[[TableRef], list[KeyAttribute]], Callable[[TableRef], IndexSchemas]], T
        ],
    ) -> Program[T]:
        """Run a pure ``check(key_schema_of, index_schemas_of)``, describing each table
        it asks about that is not known yet.

        The lookups never do I/O: asked for an unknown table they stop the check, which
        is run again once that table is described. Checks are pure, so running one again
        is harmless, and what is refused first stays what the check looks at first
        (structural limits before anything needs a schema).
        """
        while True:
            try:
                return check(self._known_keys_or_stop, self._known_indexes_or_stop)
            except _SchemaNeeded as need:
                yield from self._describe_keys(need.table)

    def _known_keys_or_stop(self, table: TableRef) -> list[KeyAttribute]:
        known = self.known_key_schema(table)
        if known is None:
            raise _SchemaNeeded(table_name_of(table))
        return known

    def _known_indexes_or_stop(self, table: TableRef) -> IndexSchemas:
        if isinstance(table, Table):
            return table.index_key_schemas
        validate_table_name(table)
        with self._schemas_lock:
            cached = self._indexes.get(table)
        if cached is None:
            raise _SchemaNeeded(table)
        return cached

    def _describe_keys(self, table: str) -> Program[None]:
        description = yield from self.describe_table_program(table)
        schema = _schema_from_description(description)
        indexes = _indexes_from_description(description)
        with self._schemas_lock:
            self._schemas[table] = schema
            self._indexes[table] = indexes

    # transactions ------------------------------------------------------------------------

    def transact_write_program(
        self,
        actions: Sequence[Mapping[str, Any]],
        *,
        client_request_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> Program[dict[str, Any]]:
        """Wire TransactItems as one TransactWriteItems, all or nothing.

        The same request object, and so the same ClientRequestToken, is resent on every
        retry: DynamoDB then applies the transaction at most once within ten minutes. A
        random token is drawn when none is given, so every transaction is settleable.
        """
        if client_request_token is not None:
            validate_client_request_token(client_request_token)
        token = client_request_token if client_request_token is not None else str(uuid.uuid4())
        request: dict[str, Any] = {"TransactItems": list(actions), "ClientRequestToken": token}
        with self.operation(timeout=timeout):  # describing a named table counts too
            yield from self.checked_program(
                lambda keys, indexes: check_transaction_actions(
                    actions, keys, self.unsafe_values, indexes
                )
            )
            return (
                yield from self.execute_program(
                    "TransactWriteItems", request, retry=retry, timeout=timeout
                )
            )

    def settle_program(
        self, error: OutcomeUnknownError, *, timeout: float | None = None
    ) -> Program[bool]:
        """Whether a token-protected write reported as OUTCOME_UNKNOWN was applied.

        Replays the error's exact request with its token: success means applied once
        (True), a cancellation or failed condition means not applied (False).
        """
        if error.request is None or error.token is None:
            raise error_for(
                ErrorCode.INVALID_STATE,
                "this write was sent without a token, so it cannot be replayed to settle it; "
                "read the item with a consistent read (see error.settle)",
                {"last_code": error.details.get("last_code")},
            )
        try:
            yield from self.execute_program(
                "TransactWriteItems", dict(error.request), timeout=timeout
            )
        except (TransactionCancelledError, ConditionFailedError):
            return False
        return True


class _SchemaNeeded(Exception):  # noqa: N818 - a signal, not an error
    """A check asked for the schema of a table not described yet."""

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.table = table


def _schema_from_description(description: Mapping[str, Any]) -> list[KeyAttribute]:
    return _keys(description["KeySchema"], description)


def _keys(key_schema: list[dict[str, str]], description: Mapping[str, Any]) -> list[KeyAttribute]:
    """A wire KeySchema as key attributes, partition key first, typed from the definitions."""
    types = {d["AttributeName"]: d["AttributeType"] for d in description["AttributeDefinitions"]}
    ordered = sorted(key_schema, key=lambda k: 0 if k["KeyType"] == "HASH" else 1)
    return [KeyAttribute(k["AttributeName"], types[k["AttributeName"]]) for k in ordered]


def _indexes_from_description(description: Mapping[str, Any]) -> IndexSchemas:
    indexes: dict[str, list[KeyAttribute]] = {}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index in description.get(kind) or ():
            indexes[index["IndexName"]] = _keys(index["KeySchema"], description)
    return indexes
