"""DynamoDBService: the one door every request goes through.

Each operation validates its input, then goes through one pipeline: circuit breaker ->
retry with backoff -> operation deadline -> provider. Repositories, units of work and
batches build their requests with :mod:`tctf_dynamo.requests` and send them with
:meth:`DynamoDBService.execute`, so resilience and error translation are the same
for every path. The plain item methods here take and return ordinary Python values.
"""

from __future__ import annotations

import random as _random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from tctf_dynamo.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
    OutcomeUnknownError,
    TransactionCancelledError,
    error_for,
)
from tctf_dynamo.items import PlainItemOperations, ReadResult, TableRef, table_name_of
from tctf_dynamo.model import Table
from tctf_dynamo.outcomes import Idempotency, old_values_unproven, watch_doubt
from tctf_dynamo.providers import Boto3Provider, Provider
from tctf_dynamo.providers.base import Closing
from tctf_dynamo.resilience import (
    CircuitBreaker,
    ConsumedCapacity,
    Deadline,
    EventSink,
    ResiliencePipeline,
    RetryPolicy,
    publish,
)
from tctf_dynamo.sending import WRITE_OPERATIONS, send_write, write_kind
from tctf_dynamo.transactions import check_transaction_actions
from tctf_dynamo.validation import (
    IndexSchemas,
    KeyAttribute,
    UnsafeValuePolicy,
    validate_client_request_token,
    validate_table_name,
)

if TYPE_CHECKING:  # imported where used: a cold start that never pages or embeds skips them
    from tctf_dynamo.dryrun import DryRun
    from tctf_dynamo.pagination import CursorCodec
    from tctf_dynamo.resilience import DynamoDBStateStore

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "DynamoDBService", "ReadResult"]

DEFAULT_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_CAP_SECONDS = 10.0
CAPACITY_OPERATIONS = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
        "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
    }
)  # fmt: skip


class DynamoDBService(PlainItemOperations, Closing):
    """Validated, resilient access to one DynamoDB backend.

    Build it with :meth:`embedded` (in-process, for demos and tests), :meth:`from_client`
    (an existing boto3 client) or :meth:`from_endpoint`. The embedded backend is never a
    silent fallback: a missing AWS configuration is an error, not a switch to a fake.
    """

    def __init__(
        self,
        provider: Provider,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        breaker: CircuitBreaker | None = None,
        unsafe_values: UnsafeValuePolicy | None = None,
        events: EventSink | None = None,
        cursors: CursorCodec | None = None,
        breaker_table: Table | str | None = None,
        consumed_capacity: bool = False,
        max_workers: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        _pipeline: ResiliencePipeline | None = None,
        _schemas: dict[str, list[KeyAttribute]] | None = None,
        _indexes: dict[str, IndexSchemas] | None = None,
    ) -> None:
        if max_workers < 1:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                "max_workers must be at least 1",
                {"max_workers": max_workers},
            )
        self.provider = provider
        if breaker is None and breaker_table is not None:
            breaker = CircuitBreaker(_breaker_store(provider, breaker_table), events=events)
            breaker.probe()  # graceful start: a missing table or denied access disables it
        self.unsafe_values = unsafe_values if unsafe_values is not None else UnsafeValuePolicy()
        self.max_workers = max_workers
        self.sleep = sleep
        self.random = random
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
            "sleep": sleep,
            "clock": clock,
            "random": random,
        }
        self._pipeline = _pipeline or ResiliencePipeline(
            provider,
            retry=retry if retry is not None else RetryPolicy(),
            timeout=timeout,
            breaker=breaker,
            sleep=sleep,
            clock=clock,
            random=random,
            events=events,
        )
        self._schemas: dict[str, list[KeyAttribute]] = _schemas if _schemas is not None else {}
        self._indexes: dict[str, IndexSchemas] = _indexes if _indexes is not None else {}
        self._schemas_lock = threading.Lock()

    # construction -----------------------------------------------------------------------

    @classmethod
    def embedded(cls, **options: Any) -> DynamoDBService:
        """An isolated in-process DynamoDB (moto): no server, no credentials, no network."""
        from tctf_dynamo.providers.embedded import EmbeddedProvider

        return cls(EmbeddedProvider(), **options)

    @classmethod
    def from_client(cls, client: Any, *, fast_path: bool = True, **options: Any) -> DynamoDBService:
        """Wrap an existing boto3 DynamoDB client (its own retry settings stay as they are).

        ``fast_path`` sends data operations with the library's own JSON serialization on
        the client's signer and connections; tracers wrapped around the client see them,
        and a ``Stubber`` or a handler on ``before-call``-like events sends the operation
        through botocore's path. ``False`` always takes botocore's path, at about three
        times the client CPU.
        """
        return cls(Boto3Provider(client, fast_path=fast_path), **options)

    @classmethod
    def from_endpoint(
        cls,
        endpoint_url: str | None = None,
        *,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_workers: int = 8,
        fast_path: bool = True,
        config: Any = None,
        profile_name: str | None = None,
        botocore_session: Any = None,
        **options: Any,
    ) -> DynamoDBService:
        """A boto3-backed service for AWS (``endpoint_url=None``) or any compatible endpoint.

        botocore's own retries are off; each attempt's socket timeout is set per request
        from the operation's deadline (the client's read timeout is only the default); the
        connection pool is sized to ``max_workers`` so parallel batches never queue.
        ``config`` (a botocore ``Config``) overrides those settings; its ``retries``
        become the service's retry budget (``RetryPolicy(max_attempts=...)``) instead of
        botocore's, and giving ``retry=`` with a different budget is refused. Credentials
        come from ``botocore_session`` or a session of ``profile_name`` when given.
        """
        provider = Boto3Provider.from_endpoint(
            endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            connect_timeout=min(timeout, CONNECT_TIMEOUT_CAP_SECONDS),
            read_timeout=timeout,
            max_pool_connections=max_workers,
            fast_path=fast_path,
            config=config,
            profile_name=profile_name,
            botocore_session=botocore_session,
        )
        attempts = provider.requested_attempts
        if attempts is not None:
            retry = options.get("retry")
            if retry is not None and retry.max_attempts != attempts:
                provider.close()
                raise error_for(
                    ErrorCode.INVALID_CONFIGURATION,
                    f"config asks for {attempts} attempts and retry= for "
                    f"{retry.max_attempts}: give the budget once",
                    {"config_attempts": attempts, "retry_attempts": retry.max_attempts},
                )
            options["retry"] = retry or RetryPolicy(max_attempts=attempts)
        return cls(provider, timeout=timeout, max_workers=max_workers, **options)

    def with_retry(self, retry: RetryPolicy) -> DynamoDBService:
        """A service sharing this one's backend and breaker, with another retry policy."""
        return self.with_options(retry=retry)

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: float | None = None
    ) -> DynamoDBService:
        """A derived service: same backend, breaker and schema cache, other defaults."""
        pipeline = self._pipeline.with_options(retry=retry, timeout=timeout)
        return DynamoDBService(
            self.provider,
            **self._init_args,
            _pipeline=pipeline,
            _schemas=self._schemas,
            _indexes=self._indexes,
        )

    def dry_run(self) -> DryRun:
        """A dry run: a copy of this service that records its requests instead of sending.

        Everything above the backend is this service's own (validation, request
        building, options), so the requests are exactly those a real call sends; the
        network, the breaker and its store, events and retries are never touched. See
        ``docs/dry-runs.md``.
        """
        from tctf_dynamo.dryrun import DryRun

        return DryRun(self)

    def close(self) -> None:
        """Release the backend's connections."""
        self.provider.close()

    # the pipeline ------------------------------------------------------------------------

    def execute(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        idempotency: Idempotency | None = None,
    ) -> dict[str, Any]:
        """Send a wire request through breaker, retries and deadline; no validation.

        The library's own layers validate with :mod:`tctf_dynamo.requests` before calling
        this; it is public as the escape hatch for operations the library does not wrap.
        Writes follow the outcome rules (docs/outcomes.md): what keeps a resend from
        applying twice is ``idempotency`` if given, else read from the request; a write
        that may have been applied when the operation ends raises OUTCOME_UNKNOWN, and so
        does one that asked for its old values (``ALL_OLD``, ``UPDATED_OLD``) and was
        answered only after a lost answer (applied, but what it replaced is unknown).
        """
        if self._consumed_capacity and operation in CAPACITY_OPERATIONS:
            request = {**request, "ReturnConsumedCapacity": "TOTAL"}
        if operation in WRITE_OPERATIONS:
            kind = idempotency if idempotency is not None else write_kind(operation, request)
            with watch_doubt() as watch:
                response = send_write(self, operation, request, kind, retry=retry, timeout=timeout)
            if watch.error is not None:
                unproven = old_values_unproven(kind, operation, request, watch.error)
                if unproven is not None:
                    raise unproven
        else:
            response = self._pipeline.call(
                operation, request, retry=retry, timeout=timeout, table=request.get("TableName")
            )
        if self._consumed_capacity and "ConsumedCapacity" in response:
            self._publish_capacity(operation, response["ConsumedCapacity"])
        return response

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

    def operation(self, *, timeout: float | None = None) -> AbstractContextManager[Deadline]:
        """One deadline (``timeout`` or this service's) for every call made inside.

        For work done on behalf of one operation: a write and the read that returns its
        result, or the DynamoDBService.describe_table a table name needs and the call that
        needed it. Calls inside keep their own, shorter, deadlines.
        """
        return self._pipeline.operation(timeout=timeout)

    def run(
        self,
        operation: str,
        attempt: Callable[[], Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        table: str | None = None,
    ) -> Any:
        """Run a custom attempt body (e.g. resending only unprocessed items) resiliently."""
        return self._pipeline.run(operation, attempt, retry=retry, timeout=timeout, table=table)

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

    @property
    def pipeline(self) -> ResiliencePipeline:
        """The resilience pipeline shared by every call of this service."""
        return self._pipeline

    # tables ------------------------------------------------------------------------------

    def create_table(self, table: Table, *, wait: bool = True) -> None:
        """Create ``table`` with every index; a table that already exists is left as is."""
        try:
            self.execute("CreateTable", table.create_table_request())
        except DynamoDBServiceError as error:
            if error.code is not ErrorCode.TABLE_ALREADY_EXISTS:
                raise
        if wait:
            self._wait_until_active(table.name)
        with self._schemas_lock:
            self._schemas[table.name] = list(table.key_schema)
            self._indexes[table.name] = table.index_key_schemas

    def _wait_until_active(self, name: str) -> None:
        deadline = time.monotonic() + DEFAULT_TIMEOUT_SECONDS * 10
        delay = 0.05
        while True:
            status = self.describe_table(name).get("TableStatus")
            if status == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise error_for(
                    ErrorCode.TIMEOUT, "table did not become ACTIVE in time", {"table": name}
                )
            self.sleep(delay)
            delay = min(delay * 2, 2.0)

    def delete_table(self, table: TableRef, *, missing_ok: bool = False) -> None:
        """Delete a table; with ``missing_ok`` a table that does not exist is not an error."""
        name = table_name_of(table)
        try:
            self.execute("DeleteTable", {"TableName": name})
        except DynamoDBServiceError as error:
            if not (missing_ok and error.code is ErrorCode.TABLE_NOT_FOUND):
                raise
        with self._schemas_lock:
            self._schemas.pop(name, None)
            self._indexes.pop(name, None)

    def describe_table(self, table: TableRef) -> dict[str, Any]:
        """The table's description (``Table`` of DescribeTable)."""
        name = table_name_of(table)
        response = self.execute("DescribeTable", {"TableName": name})
        description: dict[str, Any] = response["Table"]
        return description

    def key_schema(self, table: TableRef) -> list[KeyAttribute]:
        """The table's primary key attributes, partition first.

        Known from the definition for a :class:`Table`; for a bare name, read once with
        DescribeTable and cached, so key validation needs no per-call round trip.
        """
        if isinstance(table, Table):
            schema = list(table.key_schema)
            with self._schemas_lock:
                self._schemas.setdefault(table.name, schema)
                self._indexes.setdefault(table.name, table.index_key_schemas)
            return schema
        validate_table_name(table)
        with self._schemas_lock:
            cached = self._schemas.get(table)
        if cached is not None:
            return cached
        self._describe_keys(table)
        with self._schemas_lock:
            return self._schemas[table]

    def index_schemas(self, table: TableRef) -> IndexSchemas:
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
            self._describe_keys(table)
            with self._schemas_lock:
                cached = self._indexes[table]
        return cached

    def _describe_keys(self, table: str) -> None:
        description = self.describe_table(table)
        schema = _schema_from_description(description)
        indexes = _indexes_from_description(description)
        with self._schemas_lock:
            self._schemas[table] = schema
            self._indexes[table] = indexes

    # transactions ------------------------------------------------------------------------

    def transact_write(
        self,
        actions: Sequence[Mapping[str, Any]],
        *,
        client_request_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send wire TransactItems as one TransactWriteItems, all or nothing.

        The same request object, and so the same ClientRequestToken, is resent on every
        retry: DynamoDB then applies the transaction at most once within ten minutes. A
        random token is drawn when none is given, so every transaction is settleable: a
        commit whose outcome stays in doubt raises OUTCOME_UNKNOWN carrying its token and
        request (see :meth:`settle`).
        """
        if client_request_token is not None:
            validate_client_request_token(client_request_token)
        token = client_request_token if client_request_token is not None else str(uuid.uuid4())
        request: dict[str, Any] = {"TransactItems": list(actions), "ClientRequestToken": token}
        with self.operation(timeout=timeout):  # describing a named table counts too
            check_transaction_actions(
                actions, self.key_schema, self.unsafe_values, self.index_schemas
            )
            return self.execute("TransactWriteItems", request, retry=retry, timeout=timeout)

    def settle(self, error: OutcomeUnknownError, *, timeout: float | None = None) -> bool:
        """Find out whether a token-protected write reported as OUTCOME_UNKNOWN was applied.

        Sends the error's exact request again with its token: DynamoDB answers a replay
        of a committed token with success (True, applied once), and applies it now if it
        was not (also True: applied once). A cancellation or failed condition means it
        was not applied and will not be (False). Raises OUTCOME_UNKNOWN again if the
        answer is still lost, and INVALID_STATE for a write sent without a token (read
        the item instead: see ``error.settle``). Valid within ten minutes of the first
        attempt, while DynamoDB remembers the token.
        """
        if error.request is None or error.token is None:
            raise error_for(
                ErrorCode.INVALID_STATE,
                "this write was sent without a token, so it cannot be replayed to settle it; "
                "read the item with a consistent read (see error.settle)",
                {"last_code": error.details.get("last_code")},
            )
        try:
            self.execute("TransactWriteItems", dict(error.request), timeout=timeout)
        except (TransactionCancelledError, ConditionFailedError):
            return False
        return True


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


def _breaker_store(provider: Provider, table: Table | str) -> DynamoDBStateStore:
    """Breaker state under the reserved key prefix of the named table, whatever its key
    attributes: a dedicated one made by :meth:`DynamoDBStateStore.create_table`, or an
    entity table (given as a :class:`Table`, or by name and then described on first use,
    inside that use's time budget)."""
    from tctf_dynamo.resilience.stores import DynamoDBStateStore

    if isinstance(table, Table):
        return DynamoDBStateStore(provider, table.name, partition_key=table.pk, sort_key=table.sk)
    return DynamoDBStateStore(provider, table, partition_key=None)
