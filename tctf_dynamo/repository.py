"""Repository[E]: reads and writes of one entity type, validated before anything is sent.

Writes are planned by :mod:`tctf_dynamo.writes` (managed fields, derived index keys,
bound conditions) and sent under the outcome rules of :mod:`tctf_dynamo.outcomes`: a
retry never applies a write twice, and a write whose outcome stays in doubt raises
OUTCOME_UNKNOWN. Updates a resend would apply again (ADD, arithmetic, appends) go
token-protected; ``update(..., idempotent=False)`` trades that proof for the cheaper
UpdateItem, which is then never resent after an ambiguous failure (as a versioned
update without an expected version, whose version bump would repeat, never is).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    TypeVar,
    cast,
    overload,
)

from tctf_dynamo import requests
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import Condition, Update
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import (
    InvalidItem,
    OnInvalid,
    after_write,
    check_on_invalid,
    read_one,
)
from tctf_dynamo.query import Query
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.observers import current as current_observer
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.sending import read_back, send_token_protected
from tctf_dynamo.writes import (
    KeyLike,
    WritePlan,
    key_fields_of,
    plan_delete,
    plan_put,
    plan_update,
)

if TYPE_CHECKING:
    from tctf_dynamo.service import DynamoDBService

__all__ = ["Repository"]

E = TypeVar("E", bound=Entity)
S = TypeVar("S", bound="Repository[Any]")
P = ParamSpec("P")
R = TypeVar("R")


def _traced(
    kind: str,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """One library span per repository call (see :mod:`tctf_dynamo.resilience.observers`);
    with no observer installed, one global read."""

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        @functools.wraps(method)
        def traced(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if current_observer() is None:
                return method(self, *args, **kwargs)
            with scope(kind, entity=self.entity.__name__):
                return method(self, *args, **kwargs)

        return traced

    return decorate


class Repository(Generic[E]):
    """Get, put, update, delete, query and batch operations for the entity ``entity``."""

    def __init__(
        self,
        entity: type[E],
        service: DynamoDBService,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        if entity.__entity_meta__ is None:
            raise error_for(
                ErrorCode.INVALID_SCHEMA,
                f"{entity.__name__} is not bound to a table; declare it with table=...",
            )
        self.entity = entity
        self.service = (
            service
            if retry is None and timeout is None
            else service.with_options(retry=retry, timeout=timeout)
        )
        self._table = entity.__entity_meta__.table
        self.service.key_schema(self._table)  # known from the definition: no DescribeTable later

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

    @_traced("Repository.get")
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
        check_on_invalid(on_invalid)
        fields = key_fields_of(self.entity, key if key is not None else key_fields)
        request = requests.get_request(
            self._table.name,
            self.entity.key(**fields),
            self._table.key_schema,
            consistent=consistent,
        )
        item = self.service.execute("GetItem", request).get("Item")
        if not item:
            return None
        return read_one(self.entity.from_item, item, self._table.name, on_invalid)

    def get_or_raise(
        self, key: KeyLike | None = None, /, *, consistent: bool = False, **key_fields: Any
    ) -> E:
        """The entity with this key; ITEM_NOT_FOUND when there is none."""
        found = cast("E | None", self.get(key, consistent=consistent, **key_fields))
        if found is None:
            raise error_for(
                ErrorCode.ITEM_NOT_FOUND,
                f"no {self.entity.__name__} with that key",
                {"entity": self.entity.__name__},
            )
        return found

    def query(self, *, index: str | None = None, **partition_fields: Any) -> Query[E]:
        """A query of this entity in the partition the fields give (on ``index`` if named)."""
        return Query(self.entity, self.service, partition_fields, index_name=index)

    def scan(self) -> Query[E]:
        """Every item of this entity in the table; ``.parallel(n)`` reads segments at once."""
        return Query(self.entity, self.service, {}, scan_mode=True)

    # ---------------------------------------------------------------- writes

    @_traced("Repository.create")
    def create(
        self, entity: E, *, condition: Condition | None = None, idempotent: bool = False
    ) -> E:
        """Store a new entity; CONDITION_FAILED if an item with its key exists.

        A plain create that loses an answer cannot tell its own write from a
        competitor's equal one, so it ends OUTCOME_UNKNOWN. ``idempotent=True`` sends it
        as a one-action TransactWriteItems with a fresh ClientRequestToken instead (twice
        the write capacity): a resend is answered with the first attempt's answer, so
        success means this call created the item and CONDITION_FAILED that it did not.
        """
        plan = plan_put(entity, condition=condition, create=True, policy=self.service.unsafe_values)
        if idempotent:
            send_token_protected(self.service, plan)
            return plan.written  # type: ignore[return-value]
        return self._put(plan)

    @_traced("Repository.put")
    def put(self, entity: E, *, condition: Condition | None = None) -> E:
        """Store ``entity`` whole (replacing any item with its key, unless versioned)."""
        plan = plan_put(entity, condition=condition, policy=self.service.unsafe_values)
        return self._put(plan)

    @_traced("Repository.update")
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
        plan = plan_update(
            self.entity,
            key,
            update=update,
            set=set,
            add=add,
            remove=remove,
            delete=delete,
            condition=condition,
            expected_version=expected_version,
            upsert=upsert,
            policy=self.service.unsafe_values,
        )
        if idempotent and plan.token_by_default:
            with self.service.operation():  # the read-back ends with the write's deadline
                send_token_protected(self.service, plan)
                item = read_back(self.service, plan)
            return after_write(lambda: self.entity.from_item(item))
        response = self.service.execute(
            "UpdateItem", plan.request(ReturnValues="ALL_NEW"), idempotency=plan.idempotency
        )
        return after_write(lambda: self.entity.from_item(response["Attributes"]))

    @_traced("Repository.delete")
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
        plan = plan_delete(self.entity, key, condition=condition, expected_version=expected_version)
        response = self.service.execute(
            "DeleteItem", plan.request(ReturnValues="ALL_OLD"), idempotency=plan.idempotency
        )
        old = response.get("Attributes")
        return after_write(lambda: self.entity.from_item(old)) if old else None

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
        return stream_gets(
            self.service,
            name,
            wire_keys,
            lambda item: read_one(entity.from_item, item, name, on_invalid),
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
                plan = plan_put(entity, policy=policy)
                written.append(plan.written)  # type: ignore[arg-type]
                yield plan.body["Item"]

        stream_writes(self.service, self._table.name, items(), validate=False)
        return written

    @_traced("Repository.batch_delete")
    def batch_delete(self, keys: Iterable[KeyLike]) -> None:
        """Delete any number of items in parallel batches (keys built as they are sent)."""
        from tctf_dynamo.batch._streams import stream_writes

        entity = self.entity
        wire_keys = (entity.key(**key_fields_of(entity, key)) for key in keys)
        stream_writes(self.service, self._table.name, wire_keys, kind="delete", validate=False)

    # ---------------------------------------------------------------- sending

    def _put(self, plan: WritePlan) -> E:
        self.service.execute("PutItem", plan.request(), idempotency=plan.idempotency)
        return plan.written  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Repository({self.entity.__name__}, table={self._table.name!r})"
