"""The plain-item half of AsyncDynamoDBService: ordinary Python values in and out, awaited.

Same names, arguments, results and errors as
:class:`~tctf_dynamo.sync.items.PlainItemOperations`: each method awaits the very program the
blocking method runs (:class:`~tctf_dynamo.core.items.PlainItemCore`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from tctf_dynamo.core.items import PlainItemCore, ReadResult
from tctf_dynamo.core.service_core import TableRef
from tctf_dynamo.effects.program import Program
from tctf_dynamo.expressions import Condition, KeyCondition, Projection, Update

__all__ = ["AsyncPlainItemOperations"]

T = TypeVar("T")


class AsyncPlainItemOperations(PlainItemCore):
    """get/put/update/delete/query/scan/transact_get on plain dicts, awaited; mixed into
    the async service."""

    async def run_program(self, program: Program[T]) -> T:
        """Run a program to its end with the shell's async driver."""
        raise NotImplementedError

    async def get_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        projection: Projection | None = None,
    ) -> dict[str, Any] | None:
        """The item with ``key`` (plain values), or None when there is none."""
        return await self.run_program(
            self.get_item_program(table, key, consistent=consistent, projection=projection)
        )

    async def put_item(
        self,
        table: TableRef,
        item: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> dict[str, Any] | None:
        """Write ``item`` whole; with ``return_old`` the item it replaced, if any."""
        return await self.run_program(
            self.put_item_program(table, item, condition=condition, return_old=return_old)
        )

    async def update_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        update: Update | None = None,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        delete: Mapping[str, Any] | None = None,
        condition: Condition | None = None,
        return_values: str = "ALL_NEW",
    ) -> dict[str, Any] | None:
        """Apply an update to the item with ``key``; returns ``return_values`` of it.

        Give an :class:`Update`, or its parts as ``set``/``add``/``remove``/``delete``.
        """
        program = self.update_item_program(
            table,
            key,
            update,
            set=set,
            add=add,
            remove=remove,
            delete=delete,
            condition=condition,
            return_values=return_values,
        )
        return await self.run_program(program)

    async def delete_item(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> dict[str, Any] | None:
        """Delete the item with ``key``; with ``return_old`` the item deleted, if any."""
        return await self.run_program(
            self.delete_item_program(table, key, condition=condition, return_old=return_old)
        )

    async def query(
        self,
        table: TableRef,
        key_condition: KeyCondition,
        *,
        index: str | None = None,
        filter: Condition | None = None,
        projection: Projection | None = None,
        limit: int | None = None,
        exclusive_start_key: Mapping[str, Any] | None = None,
        forward: bool = True,
        consistent: bool = False,
    ) -> ReadResult:
        """One page of a Query; follow ``last_evaluated_key`` for the next."""
        program = self.query_program(
            table,
            key_condition,
            index=index,
            filter=filter,
            projection=projection,
            limit=limit,
            exclusive_start_key=exclusive_start_key,
            forward=forward,
            consistent=consistent,
        )
        return await self.run_program(program)

    async def scan(
        self,
        table: TableRef,
        *,
        index: str | None = None,
        filter: Condition | None = None,
        projection: Projection | None = None,
        limit: int | None = None,
        exclusive_start_key: Mapping[str, Any] | None = None,
        consistent: bool = False,
        segment: tuple[int, int] | None = None,
    ) -> ReadResult:
        """One page of a Scan (optionally one ``(segment, total_segments)`` of a parallel scan)."""
        program = self.scan_program(
            table,
            index=index,
            filter=filter,
            projection=projection,
            limit=limit,
            exclusive_start_key=exclusive_start_key,
            consistent=consistent,
            segment=segment,
        )
        return await self.run_program(program)

    async def transact_get(
        self,
        gets: Sequence[tuple[TableRef, Mapping[str, Any]]],
        *,
        projection: Projection | None = None,
    ) -> list[dict[str, Any] | None]:
        """Read up to 100 items consistently in one TransactGetItems, in the order given."""
        return await self.run_program(self.transact_get_program(gets, projection=projection))
