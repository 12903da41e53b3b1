"""AsyncRepository[E]: the repository, awaited.

The async twin of :class:`~tctf_dynamo.sync.repository.Repository`: same methods, arguments,
results, errors and outcome rules, because each method awaits the very program the
sync method runs (:class:`~tctf_dynamo.core.repository_core.RepositoryCore`).
``query()`` and ``scan()`` return an :class:`~tctf_dynamo.aio.AsyncQuery`. The batch
methods (``batch_get``, ``batch_put``, ``batch_delete``) are not part of it yet: use
the async batch API for bulk work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from tctf_dynamo.aio.query import AsyncQuery
from tctf_dynamo.core.repository_core import RepositoryCore
from tctf_dynamo.core.writes import KeyLike
from tctf_dynamo.expressions import Condition, Update
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid

if TYPE_CHECKING:
    from tctf_dynamo.aio.service import AsyncDynamoDBService  # noqa: F401 - the base class names it

__all__ = ["AsyncRepository"]

E = TypeVar("E", bound=Entity)


class AsyncRepository(RepositoryCore[E, "AsyncDynamoDBService"]):
    """Get, put, update, delete and query of the entity ``entity``, awaited."""

    # ---------------------------------------------------------------- reads

    @overload
    async def get(
        self,
        key: KeyLike | None = None,
        /,
        *,
        consistent: bool = False,
        on_invalid: Literal["raise", "skip"] = "raise",
        **key_fields: Any,
    ) -> E | None: ...

    @overload
    async def get(
        self,
        key: KeyLike | None = None,
        /,
        *,
        consistent: bool = False,
        on_invalid: Literal["raw"],
        **key_fields: Any,
    ) -> E | InvalidItem | None: ...

    async def get(
        self,
        key: KeyLike | None = None,
        /,
        *,
        consistent: bool = False,
        on_invalid: OnInvalid = "raise",
        **key_fields: Any,
    ) -> E | InvalidItem | None:
        """The entity with this key, or None; see :meth:`tctf_dynamo.Repository.get`."""
        program = self.get_program(key, key_fields, consistent=consistent, on_invalid=on_invalid)
        return await self.service.run_program(program)

    async def get_or_raise(
        self, key: KeyLike | None = None, /, *, consistent: bool = False, **key_fields: Any
    ) -> E:
        """The entity with this key; ITEM_NOT_FOUND when there is none."""
        program = self.get_or_raise_program(key, key_fields, consistent=consistent)
        return await self.service.run_program(program)

    def query(self, *, index: str | None = None, **partition_fields: Any) -> AsyncQuery[E]:
        """A query of this entity in the partition the fields give (on ``index`` if named)."""
        return AsyncQuery(self.entity, self.service, partition_fields, index_name=index)

    def scan(self) -> AsyncQuery[E]:
        """Every item of this entity in the table; ``.parallel(n)`` reads segments at once."""
        return AsyncQuery(self.entity, self.service, {}, scan_mode=True)

    # ---------------------------------------------------------------- writes

    async def create(
        self, entity: E, *, condition: Condition | None = None, idempotent: bool = False
    ) -> E:
        """Store a new entity; CONDITION_FAILED if an item with its key exists
        (``idempotent``: see :meth:`RepositoryCore.create_program`)."""
        program = self.create_program(entity, condition=condition, idempotent=idempotent)
        return await self.service.run_program(program)

    async def put(self, entity: E, *, condition: Condition | None = None) -> E:
        """Store ``entity`` whole (replacing any item with its key, unless versioned)."""
        return await self.service.run_program(self.put_program(entity, condition=condition))

    async def update(
        self,
        key: KeyLike,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        delete: Mapping[str, Any] | None = None,
        update: Update | None = None,
        condition: Condition | None = None,
        expected_version: int | None = None,
        upsert: bool = False,
        idempotent: bool = True,
    ) -> E:
        """Change fields of the item with ``key`` and return the entity as stored now."""
        program = self.update_program(
            key,
            set=set,
            add=add,
            remove=remove,
            delete=delete,
            update=update,
            condition=condition,
            expected_version=expected_version,
            upsert=upsert,
            idempotent=idempotent,
        )
        return await self.service.run_program(program)

    async def delete(
        self,
        key: KeyLike,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
    ) -> E | None:
        """Delete the item with ``key``; returns the entity deleted, or None if none was."""
        program = self.delete_program(key, condition=condition, expected_version=expected_version)
        return await self.service.run_program(program)
