"""What a repository decides, as programs: the half :class:`~tctf_dynamo.Repository` and
:class:`~tctf_dynamo.aio.AsyncRepository` share.

Writes are planned by :mod:`tctf_dynamo.core.writes` (managed fields, derived index keys,
bound conditions) and sent under the outcome rules of :mod:`tctf_dynamo.core.outcomes`: a
retry never applies a write twice, and a write whose outcome stays in doubt raises
OUTCOME_UNKNOWN. Updates a resend would apply again (ADD, arithmetic, appends) go
token-protected; ``update(..., idempotent=False)`` trades that proof for the cheaper
UpdateItem, which is then never resent after an ambiguous failure (as a versioned
update without an expected version, whose version bump would repeat, never is).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

from tctf_dynamo.core import requests
from tctf_dynamo.core.sending import read_back_program, token_protected_program
from tctf_dynamo.core.writes import (
    KeyLike,
    WritePlan,
    key_fields_of,
    plan_delete,
    plan_put,
    plan_update,
    put_item,
    wire_keys,
)
from tctf_dynamo.effects.program import Program
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
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.observers import current as current_observer
from tctf_dynamo.resilience.observers import scope

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore

__all__ = ["RepositoryCore", "traced"]

E = TypeVar("E", bound=Entity)
S = TypeVar("S", bound="ServiceCore")
Self_ = TypeVar("Self_", bound="RepositoryCore[Any, Any]")
P = ParamSpec("P")
R = TypeVar("R")


def traced(
    kind: str,
) -> Callable[
    [Callable[Concatenate[Self_, P], Program[R]]], Callable[Concatenate[Self_, P], Program[R]]
]:
    """One library span per repository call (see :mod:`tctf_dynamo.resilience.observers`)
    around the call's program; with no observer installed, one global read."""

    def decorate(
        method: Callable[Concatenate[Self_, P], Program[R]],
    ) -> Callable[Concatenate[Self_, P], Program[R]]:
        @functools.wraps(method)
        def traced_program(self: Self_, /, *args: P.args, **kwargs: P.kwargs) -> Program[R]:
            program = method(self, *args, **kwargs)
            if current_observer() is None:
                return program
            return _in_scope(kind, self.entity.__name__, program)

        return traced_program

    return decorate


def _in_scope(kind: str, entity: str, program: Program[R]) -> Program[R]:
    with scope(kind, entity=entity):
        return (yield from program)


class RepositoryCore(Generic[E, S]):
    """Get, put, update and delete of the entity ``entity``, as programs."""

    def __init__(
        self,
        entity: type[E],
        service: S,
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
        self.service: S = (
            service
            if retry is None and timeout is None
            else service.with_options(retry=retry, timeout=timeout)
        )
        self._table = entity.__entity_meta__.table
        self.service.known_key_schema(self._table)  # from the definition: no DescribeTable later

    # ---------------------------------------------------------------- reads

    @traced("Repository.get")
    def get_program(
        self,
        key: KeyLike | None,
        key_fields: Mapping[str, Any],
        *,
        consistent: bool = False,
        on_invalid: OnInvalid = "raise",
    ) -> Program[E | InvalidItem | None]:
        """The entity with this key (``key`` or else ``key_fields``), or None; ``on_invalid``
        says what to do if the stored item does not validate."""
        check_on_invalid(on_invalid)
        fields = key_fields_of(self.entity, key if key is not None else key_fields)
        request = requests.get_request(
            self._table.name,
            self.entity.key(**fields),
            self._table.key_schema,
            consistent=consistent,
        )
        response = yield from self.service.execute_program("GetItem", request)
        item = response.get("Item")
        if not item:
            return None
        return read_one(self.entity.from_item, item, self._table.name, on_invalid)

    def get_or_raise_program(
        self, key: KeyLike | None, key_fields: Mapping[str, Any], *, consistent: bool = False
    ) -> Program[E]:
        """The entity with this key; ITEM_NOT_FOUND when there is none."""
        found = yield from self.get_program(key, key_fields, consistent=consistent)
        if found is None:
            raise error_for(
                ErrorCode.ITEM_NOT_FOUND,
                f"no {self.entity.__name__} with that key",
                {"entity": self.entity.__name__},
            )
        return found  # type: ignore[return-value]  # "raise" never returns an InvalidItem

    # ---------------------------------------------------------------- writes

    @traced("Repository.create")
    def create_program(
        self, entity: E, *, condition: Condition | None = None, idempotent: bool = False
    ) -> Program[E]:
        """Store a new entity; CONDITION_FAILED if an item with its key exists.

        A plain create that loses an answer cannot tell its own write from a
        competitor's equal one, so it ends OUTCOME_UNKNOWN. ``idempotent=True`` sends it
        as a one-action TransactWriteItems with a fresh ClientRequestToken instead (twice
        the write capacity): a resend is answered with the first attempt's answer, so
        success means this call created the item and CONDITION_FAILED that it did not.
        """
        plan = plan_put(entity, condition=condition, create=True, policy=self.service.unsafe_values)
        if idempotent:
            yield from token_protected_program(self.service, plan)
            return plan.written  # type: ignore[return-value]
        return (yield from self._put_program(plan))

    @traced("Repository.put")
    def put_program(self, entity: E, *, condition: Condition | None = None) -> Program[E]:
        """Store ``entity`` whole (replacing any item with its key, unless versioned)."""
        plan = plan_put(entity, condition=condition, policy=self.service.unsafe_values)
        return (yield from self._put_program(plan))

    @traced("Repository.update")
    def update_program(
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
    ) -> Program[E]:
        """Change fields of the item with ``key``; the entity as stored now."""
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
                yield from token_protected_program(self.service, plan)
                item = yield from read_back_program(self.service, plan)
            return after_write(lambda: self.entity.from_item(item))
        request = plan.request(ReturnValues="ALL_NEW")
        response = yield from self.service.execute_program(
            "UpdateItem", request, idempotency=plan.idempotency
        )
        return after_write(lambda: self.entity.from_item(response["Attributes"]))

    @traced("Repository.delete")
    def delete_program(
        self,
        key: KeyLike,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
    ) -> Program[E | None]:
        """Delete the item with ``key``; the entity deleted, or None if none was."""
        plan = plan_delete(self.entity, key, condition=condition, expected_version=expected_version)
        response = yield from self.service.execute_program(
            "DeleteItem", plan.request(ReturnValues="ALL_OLD"), idempotency=plan.idempotency
        )
        old = response.get("Attributes")
        return after_write(lambda: self.entity.from_item(old)) if old else None

    def _put_program(self, plan: WritePlan) -> Program[E]:
        yield from self.service.execute_program(
            "PutItem", plan.request(), idempotency=plan.idempotency
        )
        return plan.written  # type: ignore[return-value]

    # ---------------------------------------------------------------- batches

    def batch_get_stream(
        self, keys: Iterable[KeyLike], on_invalid: OnInvalid
    ) -> tuple[Iterator[dict[str, Any]], Callable[[Mapping[str, Any]], Any]]:
        """What ``batch_get`` streams: the wire keys, built as requests need them, and
        how each item found is read (``on_invalid`` as for ``get``)."""
        check_on_invalid(on_invalid)
        entity, name = self.entity, self._table.name
        keys_out = wire_keys(entity, keys)
        if on_invalid == "raise":  # what read_one does when raising, without its frame
            return keys_out, entity.from_item
        return keys_out, lambda item: read_one(entity.from_item, item, name, on_invalid)

    def batch_put_stream(self, entities: Iterable[E]) -> tuple[list[E], Iterator[dict[str, Any]]]:
        """What ``batch_put`` streams: the items, each planned as a put is when its
        request needs it, and the list that holds every entity as written once planned."""
        written: list[E] = []
        policy = self.service.unsafe_values

        def items() -> Iterator[dict[str, Any]]:
            for entity in entities:
                stored, item = put_item(entity, policy=policy)  # a put's checks, no request
                written.append(stored)  # type: ignore[arg-type]
                yield item

        return written, items()

    def batch_delete_stream(self, keys: Iterable[KeyLike]) -> Iterator[dict[str, Any]]:
        """What ``batch_delete`` streams: the wire keys, built as requests need them."""
        return wire_keys(self.entity, keys)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.entity.__name__}, table={self._table.name!r})"
