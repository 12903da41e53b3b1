"""Pure builders of validated DynamoDB wire requests.

Every write and read the library sends is built here, whether it comes from the plain
item API of the service, a repository, a unit of work or a batch. Building validates the
input first, so a request that leaves this module is one DynamoDB can accept: bad input
raises a :class:`~tctf_dynamo.errors.DynamoDBServiceError` and nothing is sent.
Builders do no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import (
    Condition,
    KeyCondition,
    Projection,
    Update,
    build_request_parts,
)
from tctf_dynamo.expressions.operands import Value
from tctf_dynamo.expressions.updates import SetAction
from tctf_dynamo.validation import (
    IndexSchemas,
    KeyAttribute,
    UnsafeValuePolicy,
    validate_count,
    validate_index_keys,
    validate_index_name,
    validate_item,
    validate_key,
    validate_query_filter,
    validate_segment,
    validate_table_name,
)
from tctf_dynamo.wire.codec import encode

WireItem = dict[str, dict[str, Any]]
Request = dict[str, Any]


def put_request(
    table_name: str,
    item: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    *,
    condition: Condition | None = None,
    policy: UnsafeValuePolicy | None = None,
    return_old: bool = False,
    indexes: IndexSchemas | None = None,
) -> tuple[Request, int]:
    """A PutItem request and the item's size in bytes (reused for transaction limits)."""
    validate_table_name(table_name)
    size = validate_item(item, schema, policy, indexes)
    request: Request = {"TableName": table_name, "Item": item}
    if condition is not None:
        request.update(build_request_parts(condition=condition))
    if return_old:
        request["ReturnValues"] = "ALL_OLD"
    return request, size


def get_request(
    table_name: str,
    key: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    *,
    consistent: bool = False,
    projection: Projection | None = None,
) -> Request:
    """A GetItem request."""
    validate_table_name(table_name)
    validate_key(key, schema)
    request: Request = {"TableName": table_name, "Key": key}
    if consistent:
        request["ConsistentRead"] = True
    if projection is not None:
        request.update(build_request_parts(projection=projection))
    return request


def update_request(
    table_name: str,
    key: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    update: Update,
    *,
    condition: Condition | None = None,
    return_values: str | None = "ALL_NEW",
    indexes: IndexSchemas | None = None,
) -> Request:
    """An UpdateItem request; ``return_values=None`` for transaction actions.

    An update without actions is a valid UpdateItem: DynamoDB creates the item with just
    its key (or leaves an existing one as it is), so the request carries no
    UpdateExpression. Entity updates refuse that earlier (a bare key is no valid entity).
    Values set on ``indexes``' key attributes are checked as index keys.
    """
    validate_table_name(table_name)
    validate_key(key, schema)
    if indexes:
        validate_index_keys(_set_values(update, indexes), indexes)
    request: Request = {"TableName": table_name, "Key": key}
    actions = None if update.is_empty else update
    request.update(build_request_parts(update=actions, condition=condition))
    if return_values is not None:
        request["ReturnValues"] = return_values
    return request


def _set_values(update: Update, indexes: IndexSchemas) -> WireItem:
    """Literal values an update SETs on top-level index key attributes, encoded."""
    names = {attribute.name for schema in indexes.values() for attribute in schema}
    values: WireItem = {}
    for action in update.actions:
        if isinstance(action, SetAction) and isinstance(action.value, Value):
            segments = action.path.segments
            if len(segments) == 1 and segments[0] in names:
                values[str(segments[0])] = encode(action.value.value)
    return values


def delete_request(
    table_name: str,
    key: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    *,
    condition: Condition | None = None,
    return_old: bool = False,
) -> Request:
    """A DeleteItem request."""
    validate_table_name(table_name)
    validate_key(key, schema)
    request: Request = {"TableName": table_name, "Key": key}
    if condition is not None:
        request.update(build_request_parts(condition=condition))
    if return_old:
        request["ReturnValues"] = "ALL_OLD"
    return request


def condition_check_request(
    table_name: str,
    key: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    condition: Condition,
) -> Request:
    """A ConditionCheck action of TransactWriteItems."""
    validate_table_name(table_name)
    validate_key(key, schema)
    request: Request = {"TableName": table_name, "Key": key}
    request.update(build_request_parts(condition=condition))
    return request


def read_request(
    table_name: str,
    *,
    key_condition: KeyCondition | None = None,
    index: str | None = None,
    filter: Condition | None = None,
    projection: Projection | None = None,
    limit: int | None = None,
    exclusive_start_key: Mapping[str, Mapping[str, Any]] | None = None,
    forward: bool = True,
    consistent: bool = False,
    count_only: bool = False,
    segment: tuple[int, int] | None = None,
    key_names: Sequence[str] = (),
) -> Request:
    """A Query request (with ``key_condition``) or a Scan request (without).

    ``key_names`` are the key attributes of the table or index read, which a Query's
    filter may not use."""
    validate_table_name(table_name)
    request: Request = {"TableName": table_name}
    if index is not None:
        validate_index_name(index)
        request["IndexName"] = index
    request.update(
        build_request_parts(key_condition=key_condition, filter=filter, projection=projection)
    )
    if key_condition is not None:
        validate_query_filter(request, key_names)
    if limit is not None:
        request["Limit"] = validate_count(limit, "limit")
    if exclusive_start_key:
        request["ExclusiveStartKey"] = dict(exclusive_start_key)
    if key_condition is not None and not forward:
        request["ScanIndexForward"] = False
    if consistent:
        request["ConsistentRead"] = True
    if count_only:
        request["Select"] = "COUNT"
    if segment is not None:
        if key_condition is not None:
            raise error_for(
                ErrorCode.INVALID_INPUT, "segments apply to scans", {"argument": "segment"}
            )
        request["Segment"], request["TotalSegments"] = validate_segment(segment)
    return request
