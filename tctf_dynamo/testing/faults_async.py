"""The async twin of :class:`~tctf_dynamo.testing.FaultInjectingProvider`.

Same seeded decisions (:class:`~tctf_dynamo.testing.faults.FaultDraws`), same errors,
same partial batches; only the forwarding is awaited. The same seed and the same
sequence of calls give the same faults as the sync provider.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from tctf_dynamo.providers.base import AsyncClosing, AsyncProvider, Request, Response
from tctf_dynamo.testing.faults import FaultDraws, FaultRates

__all__ = ["AsyncFaultInjectingProvider"]


class AsyncFaultInjectingProvider(AsyncClosing):
    """Wraps the async provider ``inner`` and injects faults at ``rates``."""

    def __init__(
        self,
        inner: AsyncProvider,
        *,
        seed: int,
        rates: Mapping[str, FaultRates] | FaultRates,
    ) -> None:
        self.inner = inner
        self._draws = FaultDraws(seed=seed, rates=rates)

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        return self._draws.injected

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        draw = self._draws.draw(operation, request)
        forwarded = None
        if draw.forward is not None:
            forwarded = await self.inner.call(operation, draw.forward, timeout=timeout)
        return draw.carry_out(forwarded)

    async def close(self) -> None:
        await self.inner.close()
