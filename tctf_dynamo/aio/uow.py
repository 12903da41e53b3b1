"""AsyncUnitOfWork and read_together, awaited.

The async twins of :class:`~tctf_dynamo.uow.UnitOfWork` and
:func:`~tctf_dynamo.uow.read_together`: the same intents, limits, states, requests,
tokens and errors, because both run the programs of
:class:`~tctf_dynamo.uow._unit.UnitCore`. Adding an intent does no I/O and is not
awaited; only committing is.

Cancellation: a task cancelled while its commit is in flight leaves the unit reported
before the ``CancelledError`` goes on. An atomic unit is UNKNOWN when its request may
have reached DynamoDB (``uow.error`` is the OUTCOME_UNKNOWN error, with the token and
request: ``await service.settle(uow.error)``, or ``await uow.commit()`` again to replay
the identical request), FAILED with an INTERRUPTED error when it cannot have. A unit
with ``atomic=False`` is FAILED and ``uow.error`` lists exactly which intents were not
applied and which are unknown. See ``docs/unit-of-work.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

from tctf_dynamo.core.writes import KeyLike
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.uow._intents import IntentResult
from tctf_dynamo.uow._reads import read_together_program
from tctf_dynamo.uow._state import UnitState, accepts
from tctf_dynamo.uow._unit import UnitCore

if TYPE_CHECKING:
    from tctf_dynamo.aio.service import AsyncDynamoDBService

__all__ = ["AsyncUnitOfWork", "read_together"]


class AsyncUnitOfWork(UnitCore):
    """Writes of several entities committed together, awaited.

    ::

        async with AsyncUnitOfWork(service) as uow:
            uow.update(Escrow, {"escrow_id": "e1"}, add={"balance": -amount},
                       condition=attr("status") == "FUNDED")
            uow.update(Wallet, {"user_id": "u2"}, add={"balance": amount})

    On a clean exit of the block the intents are sent as one TransactWriteItems; an
    exception (or a cancellation) in the block sends nothing. ``await uow.commit()`` may
    also be called explicitly. Options are those of
    :class:`~tctf_dynamo.uow.UnitOfWork`. A unit of work is meant for one task.
    """

    def __init__(
        self,
        service: AsyncDynamoDBService,
        *,
        atomic: bool = True,
        return_failed_items: bool = False,
        client_request_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__(
            service,
            atomic=atomic,
            return_failed_items=return_failed_items,
            client_request_token=client_request_token,
            retry=retry,
            timeout=timeout,
            now=now,
        )
        self._runner: AsyncDynamoDBService = self._service  # type: ignore[assignment]

    @accepts(UnitState.OPEN, UnitState.UNKNOWN)
    async def commit(self) -> list[IntentResult]:
        """Send every intent; see :meth:`tctf_dynamo.uow.UnitOfWork.commit`."""
        results: list[IntentResult] = await self._runner.run_program(self.commit_program())
        return results

    @accepts(UnitState.OPEN)
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Commit on a clean exit (unless already ended); discard on an exception."""
        if self._commits_on_exit(exc_type):
            await self.commit()


async def read_together(
    service: AsyncDynamoDBService,
    keys: Sequence[tuple[type[Entity], KeyLike]],
    *,
    on_invalid: OnInvalid = "raise",
) -> list[Entity | InvalidItem | None]:
    """Several entities read as of one moment; see :func:`tctf_dynamo.uow.read_together`."""
    return await service.run_program(read_together_program(service, keys, on_invalid=on_invalid))
