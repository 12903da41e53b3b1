"""The plain-item operations as programs: ordinary Python values in and out.

Each program encodes with the codec, builds a validated request with
:mod:`tctf_dynamo.core.requests` and sends it with
:meth:`~tctf_dynamo.core.service_core.ServiceCore.execute_program`; the sync service
(:class:`~tctf_dynamo.sync.items.PlainItemOperations`) runs them blocking and the async one
(:class:`~tctf_dynamo.aio.items.AsyncPlainItemOperations`) awaits them, so both check
the same things in the same order and send the same requests.

Each program is one operation (``with self.operation()``): describing a table given by
name (once per service) and the call that needed it end by the same deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from tctf_dynamo.core import requests
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.service_core import ServiceCore, TableRef, table_name_of
from tctf_dynamo.core.transactions import check_transaction_actions
from tctf_dynamo.core.update_rules import non_idempotent
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import Condition, KeyCondition, Projection, Update
from tctf_dynamo.validation import IndexSchemas, KeyAttribute, check_unsafe_values
from tctf_dynamo.wire.codec import decode_item, encode_item

__all__ = ["PlainItemCore", "ReadResult", "read_result", "update_idempotency"]

_KeysOf = Callable[[TableRef], list[KeyAttribute]]


@attrs.frozen(slots=True)
class ReadResult:
    """One page of a Query or Scan, items decoded to plain Python values."""

    items: list[dict[str, Any]]
    last_evaluated_key: dict[str, Any] | None
    count: int
    scanned_count: int


class PlainItemCore(ServiceCore):
    """get/put/update/delete/query/scan/transact_get on plain dicts, as programs.

    Schemas are looked up where the blocking methods always asked for them (after the
    table name and the values are checked, before the request is), so what bad input is
    refused first is the same for both APIs. Schemas come from
    :meth:`key_schema_program` / :meth:`index_schemas_program`, which answer from the
    definition or the cache and describe only a table named by a string not seen yet.
    """

    def get_item_program(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        consistent: bool = False,
        projection: Projection | None = None,
    ) -> Program[dict[str, Any] | None]:
        """The item with ``key`` (plain values), or None when there is none."""
        with self.operation():
            name = table_name_of(table)
            wire_key = encode_item(key)
            keys = yield from self.key_schema_program(table)
            request = requests.get_request(
                name, wire_key, keys, consistent=consistent, projection=projection
            )
            response = yield from self.execute_program("GetItem", request)
            item = response.get("Item")
            return decode_item(item) if item is not None else None

    def put_item_program(
        self,
        table: TableRef,
        item: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> Program[dict[str, Any] | None]:
        """Write ``item`` whole; with ``return_old`` the item it replaced, if any."""
        with self.operation():
            name = table_name_of(table)
            wire_item = encode_item(item)
            keys = yield from self.key_schema_program(table)
            indexes = yield from self.index_schemas_program(table)
            request, _ = requests.put_request(
                name,
                wire_item,
                keys,
                condition=condition,
                policy=self.unsafe_values,
                return_old=return_old,
                indexes=indexes,
            )
            response = yield from self.execute_program("PutItem", request)
            old = response.get("Attributes")
            return decode_item(old) if old else None

    def update_item_program(
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
    ) -> Program[dict[str, Any] | None]:
        """Apply an update to the item with ``key``; returns ``return_values`` of it.

        Give an :class:`Update`, or its parts as ``set``/``add``/``remove``/``delete``.
        """
        with self.operation():
            if set:
                check_unsafe_values(set, self.unsafe_values)
            parts = Update.from_parts(set=set, add=add, remove=remove, delete=delete)
            update = update.merge(parts) if update is not None else parts
            name = table_name_of(table)
            wire_key = encode_item(key)
            keys = yield from self.key_schema_program(table)
            indexes = yield from self.index_schemas_program(table)
            request = requests.update_request(
                name,
                wire_key,
                keys,
                update,
                condition=condition,
                return_values=return_values,
                indexes=indexes,
            )
            kind = update_idempotency(update, condition)
            response = yield from self.execute_program("UpdateItem", request, idempotency=kind)
            attributes = response.get("Attributes")
            return decode_item(attributes) if attributes else None

    def delete_item_program(
        self,
        table: TableRef,
        key: Mapping[str, Any],
        *,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> Program[dict[str, Any] | None]:
        """Delete the item with ``key``; with ``return_old`` the item deleted, if any."""
        with self.operation():
            name = table_name_of(table)
            wire_key = encode_item(key)
            keys = yield from self.key_schema_program(table)
            request = requests.delete_request(
                name, wire_key, keys, condition=condition, return_old=return_old
            )
            response = yield from self.execute_program("DeleteItem", request)
            old = response.get("Attributes")
            return decode_item(old) if old else None

    def query_program(
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
    ) -> Program[ReadResult]:
        """One page of a Query; follow ``last_evaluated_key`` for the next."""
        with self.operation():
            keys: Sequence[KeyAttribute] | None
            if index is None:
                keys = yield from self.key_schema_program(table)
            else:
                indexes = yield from self.index_schemas_program(table)
                keys = _index_keys(table, indexes, index)
            request = requests.read_request(
                table_name_of(table),
                key_names=[attribute.name for attribute in keys],
                key_condition=key_condition,
                index=index,
                filter=filter,
                projection=projection,
                limit=limit,
                exclusive_start_key=exclusive_start_key,
                forward=forward,
                consistent=consistent,
            )
            response = yield from self.execute_program("Query", request)
            return read_result(response)

    def scan_program(
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
    ) -> Program[ReadResult]:
        """One page of a Scan (optionally one ``(segment, total_segments)`` of a parallel scan)."""
        with self.operation():
            request = requests.read_request(
                table_name_of(table),
                index=index,
                filter=filter,
                projection=projection,
                limit=limit,
                exclusive_start_key=exclusive_start_key,
                consistent=consistent,
                segment=segment,
            )
            response = yield from self.execute_program("Scan", request)
            return read_result(response)

    def transact_get_program(
        self,
        gets: Sequence[tuple[TableRef, Mapping[str, Any]]],
        *,
        projection: Projection | None = None,
    ) -> Program[list[dict[str, Any] | None]]:
        """Read up to 100 items consistently in one TransactGetItems, in the order given."""
        with self.operation():
            given = list(gets)  # the check may run again once a named table is described

            def check(keys_of: _KeysOf, _indexes_of: object) -> list[dict[str, Any]]:
                actions = [
                    {
                        "Get": requests.get_request(
                            table_name_of(table),
                            encode_item(key),
                            keys_of(table),
                            projection=projection,
                        )
                    }
                    for table, key in given
                ]
                check_transaction_actions(actions, keys_of)
                return actions

            actions = yield from self.checked_program(check)
            response = yield from self.execute_program(
                "TransactGetItems", {"TransactItems": actions}
            )
            return [
                decode_item(entry["Item"]) if entry.get("Item") else None
                for entry in response.get("Responses", [{} for _ in actions])
            ]


def update_idempotency(update: Update, condition: Condition | None) -> Idempotency:
    """What keeps a plain update from applying twice when it is resent."""
    if non_idempotent(update):
        return Idempotency.NOT_IDEMPOTENT
    return Idempotency.BY_CONDITION if condition is not None else Idempotency.NATURAL


def read_result(response: Mapping[str, Any]) -> ReadResult:
    """A Query or Scan response as a :class:`ReadResult` of plain values."""
    items = [decode_item(item) for item in response.get("Items", [])]
    return ReadResult(
        items=items,
        last_evaluated_key=response.get("LastEvaluatedKey"),
        count=response.get("Count", len(items)),
        scanned_count=response.get("ScannedCount", len(items)),
    )


def _index_keys(table: TableRef, indexes: IndexSchemas, index: str) -> Sequence[KeyAttribute]:
    schema = indexes.get(index)
    if schema is None:
        raise error_for(
            ErrorCode.INVALID_INDEX_NAME,
            "the table has no index of that name",
            {"table": table_name_of(table), "index": index},
        )
    return schema
