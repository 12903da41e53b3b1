"""Repository[E]: reads and writes of one entity type, validated before anything is sent.

What a call decides (plans, requests, outcome rules, decoding) lives in
:class:`~tctf_dynamo.core.repository_core.RepositoryCore` as programs; this shell runs
them blocking (:class:`~tctf_dynamo.aio.AsyncRepository` awaits the same programs).
Writes are sent under the outcome rules of :mod:`tctf_dynamo.outcomes`: a retry never
applies a write twice, and a write whose outcome stays in doubt raises OUTCOME_UNKNOWN.
Updates a resend would apply again (ADD, arithmetic, appends) go token-protected;
``update(..., idempotent=False)`` trades that proof for the cheaper UpdateItem, which is
then never resent after an ambiguous failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Literal,
    ParamSpec,
    TypeVar,
    overload,
)

from tctf_dynamo.core.repository_core import RepositoryCore
from tctf_dynamo.expressions import Condition, Update
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid, check_on_invalid, read_one
from tctf_dynamo.query import Query
from tctf_dynamo.resilience.observers import current as current_observer
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.writes import KeyLike, key_fields_of, put_item

if TYPE_CHECKING:
    from tctf_dynamo.service import DynamoDBService  # noqa: F401 - the base class names it

__all__ = ["Repository"]

E = TypeVar("E", bound=Entity)
S = TypeVar("S", bound="Repository[Any]")
P = ParamSpec("P")
R = TypeVar("R")


def _traced(
    kind: str,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """One library span per batch call (see :mod:`tctf_dynamo.resilience.observers`);
    with no observer installed, one global read. Single-item calls are traced around
    their programs (:func:`tctf_dynamo.core.repository_core.traced`)."""

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        @functools.wraps(method)
        def traced(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if current_observer() is None:
                return method(self, *args, **kwargs)
            with scope(kind, entity=self.entity.__name__):
                return method(self, *args, **kwargs)

        return traced

    return decorate


class Repository(RepositoryCore[E, "DynamoDBService"]):
    """Get, put, update, delete, query and batch operations for the entity ``entity``."""

    # ---------------------------------------------------------------- reads

    @overload
    def get(
        self,
        key: KeyLike | None = None,
        /,
        *,
        consistent: bool = False,
        on_invalid: Literal["raise", "skip"] = "raise",
        **key_fields: Any,
    ) -> E | None: ...

    @overload
    def get(
        self,
        key: KeyLike | None = None,
        /,
        *,
        consistent: bool = False,
        on_invalid: Literal["raw"],
        **key_fields: Any,
    ) -> E | InvalidItem | None: ...

    def get(
        self,
        key: KeyLike | None = None,
        /,
        *,
        consistent: bool = False,
        on_invalid: OnInvalid = "raise",
        **key_fields: Any,
    ) -> E | InvalidItem | None:
        """The entity with this key (``get(user_id="u1")``), or None.

        ``on_invalid`` says what to do if the stored item does not validate: raise
        INVALID_ITEM naming its table and key, ``"skip"`` it (None, and a logged
        warning) or return it ``"raw"`` as an :class:`InvalidItem`.
        """
        program = self.get_program(key, key_fields, consistent=consistent, on_invalid=on_invalid)
        return self.service.run_program(program)

    def get_or_raise(
        self, key: KeyLike | None = None, /, *, consistent: bool = False, **key_fields: Any
    ) -> E:
        """The entity with this key; ITEM_NOT_FOUND when there is none."""
        program = self.get_or_raise_program(key, key_fields, consistent=consistent)
        return self.service.run_program(program)

    def query(self, *, index: str | None = None, **partition_fields: Any) -> Query[E]:
        """A query of this entity in the partition the fields give (on ``index`` if named)."""
        return Query(self.entity, self.service, partition_fields, index_name=index)

    def scan(self) -> Query[E]:
        """Every item of this entity in the table; ``.parallel(n)`` reads segments at once."""
        return Query(self.entity, self.service, {}, scan_mode=True)

    # ---------------------------------------------------------------- writes

    def create(
        self, entity: E, *, condition: Condition | None = None, idempotent: bool = False
    ) -> E:
        """Store a new entity; CONDITION_FAILED if an item with its key exists
        (``idempotent``: see :meth:`RepositoryCore.create_program`)."""
        program = self.create_program(entity, condition=condition, idempotent=idempotent)
        return self.service.run_program(program)

    def put(self, entity: E, *, condition: Condition | None = None) -> E:
        """Store ``entity`` whole (replacing any item with its key, unless versioned)."""
        return self.service.run_program(self.put_program(entity, condition=condition))

    def update(
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
        return self.service.run_program(program)

    def delete(
        self,
        key: KeyLike,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
    ) -> E | None:
        """Delete the item with ``key``; returns the entity deleted, or None if none was.

        Given an instance of a versioned entity, the delete is conditional on its version.
        """
        program = self.delete_program(key, condition=condition, expected_version=expected_version)
        return self.service.run_program(program)

    # ---------------------------------------------------------------- batches

    @overload
    def batch_get(
        self,
        keys: Iterable[KeyLike],
        *,
        consistent: bool = False,
        on_invalid: Literal["raise", "skip"] = "raise",
    ) -> list[E | None]: ...

    @overload
    def batch_get(
        self, keys: Iterable[KeyLike], *, consistent: bool = False, on_invalid: Literal["raw"]
    ) -> list[E | InvalidItem | None]: ...

    def batch_get(
        self, keys: Iterable[KeyLike], *, consistent: bool = False, on_invalid: OnInvalid = "raise"
    ) -> list[Any]:
        """The entities with ``keys``, in order, None where missing; any number of keys.

        Keys are built as requests need them and items decoded as responses arrive.
        ``on_invalid`` as for :meth:`get`: a skipped item is None at its position.
        """
        return self._batch_get(keys, consistent, on_invalid)

    @_traced("Repository.batch_get")
    def _batch_get(
        self, keys: Iterable[KeyLike], consistent: bool, on_invalid: OnInvalid
    ) -> list[Any]:
        from tctf_dynamo.batch._streams import stream_gets

        check_on_invalid(on_invalid)
        entity, name = self.entity, self._table.name
        wire_keys = (entity.key(**key_fields_of(entity, key)) for key in keys)
        decode: Callable[[Any], Any] = entity.from_item  # what read_one does when raising
        if on_invalid != "raise":
            decode = functools.partial(
                read_one, entity.from_item, table=name, on_invalid=on_invalid
            )
        return stream_gets(
            self.service,
            name,
            wire_keys,
            decode,
            consistent=consistent,
            validate=False,
        )

    @_traced("Repository.batch_put")
    def batch_put(self, entities: Iterable[E]) -> list[E]:
        """Store any number of entities in parallel batches; returns them as stored.

        Entities are encoded as requests need them, so the first request leaves once 25
        are ready. An entity that cannot be stored stops the job there: if requests were
        sent already, the entities before it are all written and its error says at which
        ``position`` (see docs/batches.md); otherwise nothing is sent.
        """
        from tctf_dynamo.batch._streams import stream_writes

        written: list[E] = []
        policy = self.service.unsafe_values

        def items() -> Iterator[dict[str, Any]]:
            for entity in entities:
                stored, item = put_item(entity, policy=policy)
                written.append(stored)  # type: ignore[arg-type]
                yield item

        stream_writes(self.service, self._table.name, items(), validate=False)
        return written

    @_traced("Repository.batch_delete")
    def batch_delete(self, keys: Iterable[KeyLike]) -> None:
        """Delete any number of items in parallel batches (keys built as they are sent)."""
        from tctf_dynamo.batch._streams import stream_writes

        entity = self.entity
        wire_keys = (entity.key(**key_fields_of(entity, key)) for key in keys)
        stream_writes(self.service, self._table.name, wire_keys, kind="delete", validate=False)
