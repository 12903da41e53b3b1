"""The two batch requests: how a chunk becomes a request and the response becomes entries.

Requests are built from the entries' prepared bodies without copying or re-encoding
them; a response's unprocessed work is matched back to entries by item identity, which
costs nothing when everything was processed (the common case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tctf_dynamo.batch._entries import Entry, Identity, IdentityOf, WireItem
from tctf_dynamo.core.outcomes import Idempotency, unknown
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, OutcomeUnknownError, error_for
from tctf_dynamo.limits import (
    MAX_BATCH_GET_KEYS,
    MAX_BATCH_GET_RESPONSE_BYTES,
    MAX_BATCH_WRITE_BYTES,
    MAX_BATCH_WRITE_ITEMS,
)
from tctf_dynamo.resilience import RetryPolicy, UnprocessedItems, publish

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore

__all__ = ["DecodeFailure", "GetJob", "WriteJob"]


def _unknown_entry(operation: str) -> DynamoDBServiceError:
    return error_for(
        ErrorCode.PROVIDER_ERROR,
        f"the {operation} response named an item its request did not hold",
        {"operation": operation},
    )


def _match(operation: str, chunk: list[Entry], identities: Iterable[Identity]) -> list[Entry]:
    by_identity = {entry.identity: entry for entry in chunk}
    matched = []
    for identity in identities:
        entry = by_identity.get(identity)
        if entry is None:
            raise _unknown_entry(operation)
        matched.append(entry)
    return matched


class WriteJob:
    """BatchWriteItem: up to 25 puts and deletes, up to 16 MB, over any tables."""

    operation = "BatchWriteItem"
    unit = "writes"
    max_count = MAX_BATCH_WRITE_ITEMS
    max_bytes = MAX_BATCH_WRITE_BYTES

    def __init__(
        self,
        service: ServiceCore,
        identities: Mapping[str, IdentityOf],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        self._service = service
        self._identities = identities
        self._retry = retry
        self._timeout = timeout

    def send_program(self, chunk: list[Entry]) -> Program[list[Entry]]:
        """Send ``chunk``; the entries handed back. An answer that came after an
        ambiguous attempt proves what it processed, not what it handed back: those
        entries are marked in doubt (an earlier attempt may have written them)."""
        answer = yield from self._service.answer_program(
            self.operation,
            {"RequestItems": _by_table(chunk)},
            retry=self._retry,
            timeout=self._timeout,
        )
        unprocessed = answer.response.get("UnprocessedItems")
        if not unprocessed:
            return []
        for table, writes in unprocessed.items():
            publish(self._service.events, UnprocessedItems(self.operation, table, len(writes)))
        try:
            left = _match(self.operation, chunk, self._identities_of(unprocessed))
        except DynamoDBServiceError as error:
            # an answer we cannot read: none of it is proven either way
            _doubt(chunk, unknown(Idempotency.NATURAL, None, self.operation, error))
            raise
        if answer.doubt is not None:
            _doubt(left, unknown(Idempotency.NATURAL, None, self.operation, answer.doubt))
        return left

    def _identities_of(self, unprocessed: Mapping[str, list[Any]]) -> Iterable[Identity]:
        for table, writes in unprocessed.items():
            identity_of = self._identities.get(table)
            if identity_of is None:
                raise _unknown_entry(self.operation)
            for write in writes:
                put = write.get("PutRequest")
                yield identity_of(put["Item"] if put else write["DeleteRequest"]["Key"])


def _doubt(entries: list[Entry], doubt: OutcomeUnknownError) -> None:
    for entry in entries:
        if entry.doubt is None:
            entry.doubt = doubt


def _by_table(chunk: list[Entry]) -> dict[str, list[Any]]:
    table = chunk[0].table
    if all(entry.table == table for entry in chunk):
        return {table: [entry.body for entry in chunk]}
    grouped: dict[str, list[Any]] = {}
    for entry in chunk:
        grouped.setdefault(entry.table, []).append(entry.body)
    return grouped


class DecodeFailure:
    """A found item that ``decode`` refused; its error is raised when results are read."""

    __slots__ = ("error",)

    def __init__(self, error: DynamoDBServiceError) -> None:
        self.error = error


class GetJob:
    """BatchGetItem of one table: up to 100 keys; found items land in ``found``.

    The 16 MB response limit cannot be checked before sending (item sizes are unknown);
    DynamoDB returns what does not fit as UnprocessedKeys, which are resent. With
    ``decode``, each item is decoded as its response arrives (in the worker, overlapping
    other requests' round trips) and ``found`` holds what it returns; an item it refuses
    is kept as a :class:`DecodeFailure`, so a bad item never reads as an unprocessed key.
    """

    operation = "BatchGetItem"
    unit = "keys"
    max_count = MAX_BATCH_GET_KEYS
    max_bytes = MAX_BATCH_GET_RESPONSE_BYTES

    def __init__(
        self,
        service: ServiceCore,
        table: str,
        identity_of: IdentityOf,
        settings: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        decode: Callable[[WireItem], Any] | None = None,
    ) -> None:
        self._service = service
        self._table = table
        self._identity_of = identity_of
        self._settings = settings
        self._retry = retry
        self._timeout = timeout
        self._decode = decode
        self.found: dict[Identity, Any] = {}

    def send_program(self, chunk: list[Entry]) -> Program[list[Entry]]:
        """Send ``chunk``; found items land in ``found``; the keys handed back."""
        keys = {"Keys": [entry.body for entry in chunk], **self._settings}
        response = yield from self._service.execute_program(
            self.operation,
            {"RequestItems": {self._table: keys}},
            retry=self._retry,
            timeout=self._timeout,
        )
        identity_of = self._identity_of
        found = self.found
        items = (response.get("Responses") or {}).get(self._table, ())
        decode = self._decode
        if decode is None:
            for item in items:
                found[identity_of(item)] = item
        else:
            for item in items:
                try:
                    found[identity_of(item)] = decode(item)
                except DynamoDBServiceError as error:
                    found[identity_of(item)] = DecodeFailure(error)
        unprocessed = (response.get("UnprocessedKeys") or {}).get(self._table)
        if not unprocessed:
            return []
        count = len(unprocessed["Keys"])
        publish(self._service.events, UnprocessedItems(self.operation, self._table, count))
        return _match(self.operation, chunk, map(identity_of, unprocessed["Keys"]))
