"""DynamoDBService: the one door every request goes through, blocking.

Each operation validates its input, then goes through one pipeline: circuit breaker ->
retry with backoff -> operation deadline -> provider. What a call decides lives in
:class:`~tctf_dynamo.core.service_core.ServiceCore` as a program; this shell performs
its effects with blocking calls (the async twin,
:class:`~tctf_dynamo.aio.AsyncDynamoDBService`, awaits the same programs).
Repositories, units of work and batches build their requests with
:mod:`tctf_dynamo.core.requests` and send them through :meth:`DynamoDBService.execute`, so
resilience and error translation are the same for every path. The plain item methods
here take and return ordinary Python values.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.service_core import CAPACITY_OPERATIONS, DEFAULT_TIMEOUT_SECONDS, TableRef
from tctf_dynamo.effects.program import Program, run
from tctf_dynamo.errors import ErrorCode, OutcomeUnknownError, error_for
from tctf_dynamo.model import Table
from tctf_dynamo.providers import Boto3Provider, Provider
from tctf_dynamo.providers.base import Closing
from tctf_dynamo.resilience import CircuitBreaker, EventSink, ResiliencePipeline, RetryPolicy
from tctf_dynamo.sync.items import PlainItemOperations, ReadResult
from tctf_dynamo.validation import IndexSchemas, KeyAttribute, UnsafeValuePolicy

if TYPE_CHECKING:  # imported where used: a cold start that never pages or embeds skips them
    from tctf_dynamo.pagination import CursorCodec
    from tctf_dynamo.resilience import DynamoDBStateStore
    from tctf_dynamo.sync.dryrun import DryRun

__all__ = ["CAPACITY_OPERATIONS", "DEFAULT_TIMEOUT_SECONDS", "DynamoDBService", "ReadResult"]

CONNECT_TIMEOUT_CAP_SECONDS = 10.0
T = TypeVar("T")


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
        if breaker is None and breaker_table is not None and max_workers >= 1:
            breaker = CircuitBreaker(_breaker_store(provider, breaker_table), events=events)
            breaker.probe()  # graceful start: a missing table or denied access disables it
        super().__init__(
            provider,
            retry=retry,
            timeout=timeout,
            breaker=breaker,
            unsafe_values=unsafe_values,
            events=events,
            cursors=cursors,
            consumed_capacity=consumed_capacity,
            max_workers=max_workers,
            clock=clock,
            random=random,
            sleep=sleep,
            _blocking_sleep=sleep,
            _pipeline=_pipeline,
            _schemas=_schemas,
            _indexes=_indexes,
        )
        self.provider = provider
        self.sleep = sleep

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

    def dry_run(self) -> DryRun:
        """A dry run: a copy of this service that records its requests instead of sending.

        Everything above the backend is this service's own (validation, request
        building, options), so the requests are exactly those a real call sends; the
        network, the breaker and its store, events and retries are never touched. See
        ``docs/dry-runs.md``.
        """
        from tctf_dynamo.sync.dryrun import DryRun

        return DryRun(self)

    def close(self) -> None:
        """Release the backend's connections."""
        self.provider.close()

    # the blocking driver -----------------------------------------------------------------

    def perform(self, effect: Any) -> Any:
        """Perform one effect of a program, blocking."""
        return self._pipeline.perform(effect)

    def run_program(self, program: Program[T]) -> T:
        """Run a program of this service (or of a layer above it) to its end, blocking."""
        return run(program, self._pipeline.perform)

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

        The library's own layers validate with :mod:`tctf_dynamo.core.requests` before calling
        this; it is public as the escape hatch for operations the library does not wrap.
        Writes follow the outcome rules (docs/outcomes.md): what keeps a resend from
        applying twice is ``idempotency`` if given, else read from the request; a write
        that may have been applied when the operation ends raises OUTCOME_UNKNOWN.
        """
        program = self.execute_program(
            operation, request, retry=retry, timeout=timeout, idempotency=idempotency
        )
        return run(program, self._pipeline.perform)

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

    # tables ------------------------------------------------------------------------------

    def create_table(self, table: Table, *, wait: bool = True) -> None:
        """Create ``table`` with every index; a table that already exists is left as is."""
        run(self.create_table_program(table, wait=wait), self._pipeline.perform)

    def delete_table(self, table: TableRef, *, missing_ok: bool = False) -> None:
        """Delete a table; with ``missing_ok`` a table that does not exist is not an error."""
        run(self.delete_table_program(table, missing_ok=missing_ok), self._pipeline.perform)

    def describe_table(self, table: TableRef) -> dict[str, Any]:
        """The table's description (``Table`` of DescribeTable)."""
        return run(self.describe_table_program(table), self._pipeline.perform)

    def key_schema(self, table: TableRef) -> list[KeyAttribute]:
        """The table's primary key attributes, partition first.

        Known from the definition for a :class:`Table`; for a bare name, read once with
        DescribeTable and cached, so key validation needs no per-call round trip.
        """
        return run(self.key_schema_program(table), self._pipeline.perform)

    def index_schemas(self, table: TableRef) -> IndexSchemas:
        """Key attributes of the table's secondary indexes, by index name (see
        :meth:`key_schema`)."""
        return run(self.index_schemas_program(table), self._pipeline.perform)

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
        program = self.transact_write_program(
            actions, client_request_token=client_request_token, retry=retry, timeout=timeout
        )
        return run(program, self._pipeline.perform)

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
        return run(self.settle_program(error, timeout=timeout), self._pipeline.perform)


def _breaker_store(provider: Provider, table: Table | str) -> DynamoDBStateStore:
    """Breaker state under the reserved key prefix of the named table, whatever its key
    attributes: a dedicated one made by :meth:`DynamoDBStateStore.create_table`, or an
    entity table (given as a :class:`Table`, or by name and then described on first use,
    inside that use's time budget)."""
    from tctf_dynamo.resilience.stores import DynamoDBStateStore

    if isinstance(table, Table):
        return DynamoDBStateStore(provider, table.name, partition_key=table.pk, sort_key=table.sk)
    return DynamoDBStateStore(provider, table, partition_key=None)
