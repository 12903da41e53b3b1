"""AsyncDynamoDBService: the service, awaited.

The async twin of :class:`~tctf_dynamo.sync.service.DynamoDBService`: same options, names,
errors and outcome rules, because every method awaits the very program the sync
method runs (:class:`~tctf_dynamo.core.service_core.ServiceCore`). Only the I/O
differs: an :class:`~tctf_dynamo.providers.base.AsyncProvider` and ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tctf_dynamo.aio.batch import AsyncBatchOperations
from tctf_dynamo.aio.driver import AsyncDriver
from tctf_dynamo.aio.items import AsyncPlainItemOperations
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.service_core import DEFAULT_TIMEOUT_SECONDS, TableRef
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import OutcomeUnknownError
from tctf_dynamo.model import Table
from tctf_dynamo.providers.base import AsyncClosing, AsyncProvider
from tctf_dynamo.resilience import CircuitBreaker, EventSink, ResiliencePipeline, RetryPolicy
from tctf_dynamo.validation import IndexSchemas, KeyAttribute, UnsafeValuePolicy

if TYPE_CHECKING:
    from tctf_dynamo.pagination import CursorCodec

__all__ = ["AsyncDynamoDBService"]

T = TypeVar("T")


class AsyncDynamoDBService(AsyncPlainItemOperations, AsyncBatchOperations, AsyncClosing):
    """Validated, resilient async access to one DynamoDB backend.

    ``async with AsyncDynamoDBService(provider) as service:`` closes the provider on the
    way out. Options are those of :class:`~tctf_dynamo.sync.service.DynamoDBService`;
    ``sleep`` is awaited for backoffs (``asyncio.sleep`` by default).
    """

    def __init__(
        self,
        provider: AsyncProvider,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        breaker: CircuitBreaker | None = None,
        unsafe_values: UnsafeValuePolicy | None = None,
        events: EventSink | None = None,
        cursors: CursorCodec | None = None,
        consumed_capacity: bool = False,
        max_workers: int = 8,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        _pipeline: ResiliencePipeline | None = None,
        _schemas: dict[str, list[KeyAttribute]] | None = None,
        _indexes: dict[str, IndexSchemas] | None = None,
    ) -> None:
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
            _pipeline=_pipeline,
            _schemas=_schemas,
            _indexes=_indexes,
            sleep=sleep,
        )
        self.provider = provider
        self.driver = AsyncDriver(provider, sleep)

    @classmethod
    def embedded(cls, **options: Any) -> AsyncDynamoDBService:
        """An isolated in-process DynamoDB (moto) that never blocks the event loop: no
        server, no credentials, no network."""
        from tctf_dynamo.providers.embedded_async import AsyncEmbeddedProvider

        return cls(AsyncEmbeddedProvider(), **options)

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
        config: Any = None,
        profile_name: str | None = None,
        botocore_session: Any = None,
        **options: Any,
    ) -> AsyncDynamoDBService:
        """An async service on the fast JSON path over aiohttp (the ``async`` extra), for
        AWS (``endpoint_url=None``) or any compatible endpoint; arguments as
        :meth:`DynamoDBService.from_endpoint <tctf_dynamo.DynamoDBService.from_endpoint>`,
        the connection pool sized to ``max_workers``."""
        from tctf_dynamo.providers.http_async import AsyncHttpProvider

        provider = AsyncHttpProvider.from_endpoint(
            endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            connect_timeout=min(timeout, 10.0),
            read_timeout=timeout,
            max_connections=max_workers,
            config=config,
            profile_name=profile_name,
            botocore_session=botocore_session,
        )
        return cls(provider, timeout=timeout, max_workers=max_workers, **options)

    async def close(self) -> None:
        """Release the backend's connections."""
        await self.provider.close()

    # the async driver --------------------------------------------------------------------

    async def perform(self, effect: Any) -> Any:
        """Perform one effect of a program, awaiting."""
        return await self.driver.perform(effect)

    async def run_program(self, program: Program[T]) -> T:
        """Run a program of this service (or of a layer above it) to its end."""
        return await self.driver.run(program)

    async def execute(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        idempotency: Idempotency | None = None,
    ) -> dict[str, Any]:
        """Send a wire request through breaker, retries and deadline; no validation.

        See :meth:`tctf_dynamo.sync.service.DynamoDBService.execute`.
        """
        program = self.execute_program(
            operation, request, retry=retry, timeout=timeout, idempotency=idempotency
        )
        return await self.driver.run(program)

    # tables ------------------------------------------------------------------------------

    async def create_table(self, table: Table, *, wait: bool = True) -> None:
        """Create ``table`` with every index; a table that already exists is left as is."""
        await self.driver.run(self.create_table_program(table, wait=wait))

    async def delete_table(self, table: TableRef, *, missing_ok: bool = False) -> None:
        """Delete a table; with ``missing_ok`` a table that does not exist is not an error."""
        await self.driver.run(self.delete_table_program(table, missing_ok=missing_ok))

    async def describe_table(self, table: TableRef) -> dict[str, Any]:
        """The table's description (``Table`` of DescribeTable)."""
        return await self.driver.run(self.describe_table_program(table))

    async def key_schema(self, table: TableRef) -> list[KeyAttribute]:
        """The table's primary key attributes, partition first (described once for a
        bare name, then cached)."""
        return await self.driver.run(self.key_schema_program(table))

    async def index_schemas(self, table: TableRef) -> IndexSchemas:
        """Key attributes of the table's secondary indexes, by index name."""
        return await self.driver.run(self.index_schemas_program(table))

    # transactions ------------------------------------------------------------------------

    async def transact_write(
        self,
        actions: Sequence[Mapping[str, Any]],
        *,
        client_request_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send wire TransactItems as one TransactWriteItems, all or nothing.

        See :meth:`tctf_dynamo.sync.service.DynamoDBService.transact_write`.
        """
        program = self.transact_write_program(
            actions, client_request_token=client_request_token, retry=retry, timeout=timeout
        )
        return await self.driver.run(program)

    async def settle(self, error: OutcomeUnknownError, *, timeout: float | None = None) -> bool:
        """Whether a token-protected write reported as OUTCOME_UNKNOWN was applied.

        See :meth:`tctf_dynamo.sync.service.DynamoDBService.settle`.
        """
        return await self.driver.run(self.settle_program(error, timeout=timeout))
