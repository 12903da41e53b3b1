"""Units of work through either API, so one test body checks both.

The fixture ``units`` (import it into a test module) gives an object whose
``unit(service, **options)`` returns a :class:`~tctf_dynamo.uow.UnitOfWork` of the
blocking ``service``, or, for the async API, an
:class:`~tctf_dynamo.aio.AsyncUnitOfWork` of that service's async twin (same backend,
retry policy, breaker, schema cache), wrapped in :class:`~tests.aio_support.Blocking`.
Setup and checks stay on the blocking service; only the unit of work changes API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncUnitOfWork
from tctf_dynamo.aio import read_together as read_together_async
from tctf_dynamo.uow import UnitOfWork, read_together
from tests.aio_support import Blocking, awaited

__all__ = ["AsyncUnits", "SyncUnits", "async_twin", "units"]


def async_twin(service: DynamoDBService) -> AsyncDynamoDBService:
    """An async service over the same backend and configuration as ``service``: over
    HTTP on the real async transport (:func:`~tests.aio_support.awaited`)."""
    options = dict(service._init_args)
    blocking_sleep = options.pop("sleep", time.sleep)
    twin_options: dict[str, Any] = {}
    if blocking_sleep is not time.sleep:  # a test's fake sleep: call it, never block

        async def sleep(seconds: float) -> None:
            blocking_sleep(seconds)

        twin_options["sleep"] = sleep
    return AsyncDynamoDBService(
        awaited(service.pipeline.provider),
        retry=service.pipeline.retry_policy,
        **options,
        **twin_options,
        _schemas=service._schemas,
        _indexes=service._indexes,
    )


class SyncUnits:
    name = "sync"

    def close(self) -> None:
        pass

    def unit(self, service: DynamoDBService, **options: Any) -> Any:
        return UnitOfWork(service, **options)

    def read_together(
        self, service: DynamoDBService, keys: Sequence[Any], **options: Any
    ) -> list[Any]:
        return read_together(service, keys, **options)


class AsyncUnits:
    name = "async"

    def __init__(self) -> None:
        self._twins: dict[int, tuple[DynamoDBService, AsyncDynamoDBService]] = {}
        self._runner = asyncio.Runner()  # one event loop for every unit of this test

    def close(self) -> None:
        self._runner.close()

    def twin(self, service: DynamoDBService) -> AsyncDynamoDBService:
        known = self._twins.get(id(service))
        if known is None or known[0] is not service:
            known = (service, async_twin(service))
            self._twins[id(service)] = known
        return known[1]

    def unit(self, service: DynamoDBService, **options: Any) -> Any:
        return Blocking(AsyncUnitOfWork(self.twin(service), **options), self._runner)

    def read_together(
        self, service: DynamoDBService, keys: Sequence[Any], **options: Any
    ) -> list[Any]:
        result: list[Any] = Blocking(None, self._runner).run(
            read_together_async(self.twin(service), keys, **options)
        )
        return result


@pytest.fixture(params=[SyncUnits, AsyncUnits], ids=["sync", "async"])
def units(request: pytest.FixtureRequest) -> Iterator[SyncUnits | AsyncUnits]:
    """The API a test's units of work use; the test body is the same for both."""
    api: SyncUnits | AsyncUnits = request.param()
    yield api
    api.close()
