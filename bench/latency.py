"""Answer DynamoDB requests inside the client after a fixed delay: latency without a network.

Batch throughput is decided by how well a client hides round-trip latency, which a local
server (answering in well under a millisecond) cannot show. :class:`InjectedLatency` is a
botocore ``before-send`` handler registered on one client: it sleeps for ``delay`` in the
calling thread -- as a request in flight would block it -- and returns a real
``AWSResponse`` with a valid JSON body, which botocore parses as it would AWS's answer.
Requests are still fully built and signed; only the socket is skipped.

Answers: ``BatchWriteItem`` processes everything (its body is not even parsed);
``BatchGetItem`` and ``GetItem`` find every key (the item comes from ``item_for_key``; a
batch answer is assembled from each item's JSON text, serialized once and reused, so the
responder's own CPU stays small and equal for every client); writes succeed;
``DescribeTable`` knows the tables in ``key_schemas``. Anything else is answered with a
DynamoDB-shaped error.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

__all__ = ["InjectedLatency", "key_as_item"]

ItemForKey = Callable[[str, dict[str, Any]], dict[str, Any]]
_JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
_WRITES = ("PutItem", "DeleteItem", "UpdateItem")
_ALL_WRITTEN = b'{"UnprocessedItems":{}}'


def key_as_item(table: str, key: dict[str, Any]) -> dict[str, Any]:
    """The simplest stored item: the key itself."""
    return dict(key)


class _Body(io.BytesIO):
    """The raw-response surface botocore reads a body through."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


@attrs.define
class InjectedLatency:
    """A ``before-send`` responder: sleep ``delay`` seconds, then answer from the request."""

    delay: float = 0.020
    item_for_key: ItemForKey = key_as_item
    key_schemas: Mapping[str, list[dict[str, str]]] = attrs.field(factory=dict)
    sleep: Callable[[float], None] = time.sleep
    calls: Counter[str] = attrs.field(factory=Counter, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)
    _texts: dict[tuple[str, Any], str] = attrs.field(factory=dict, init=False)

    def install(self, client: Any) -> Any:
        """Answer every request ``client`` sends from now on; returns the client."""
        client.meta.events.register("before-send.dynamodb", self.answer)
        return client

    def answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        operation = _operation(request)
        with self._lock:
            self.calls[operation] += 1
        if self.delay > 0:
            self.sleep(self.delay)
        if operation == "BatchWriteItem":  # nothing to read back: no need to parse it
            data = _ALL_WRITTEN
        else:
            raw = request.body
            body = json.loads(raw) if isinstance(raw, bytes | str) and raw else {}
            if operation == "BatchGetItem":
                data = self._batch_get_body(body["RequestItems"])
            else:
                status, payload = self._respond(operation, body)
                data = json.dumps(payload).encode()
                return AWSResponse(request.url, status, dict(_JSON_HEADERS), _Body(data))  # type: ignore[arg-type]
        return AWSResponse(request.url, 200, dict(_JSON_HEADERS), _Body(data))  # type: ignore[arg-type]

    def _batch_get_body(self, request_items: Mapping[str, Any]) -> bytes:
        """The answer's JSON from each item's text, serialized once and reused: the
        responder's own CPU is not what is measured."""
        parts = []
        for table, wanted in request_items.items():
            texts = ",".join(self._text(table, key) for key in wanted["Keys"])
            parts.append(f"{json.dumps(table)}:[{texts}]")
        return ('{"Responses":{' + ",".join(parts) + '},"UnprocessedKeys":{}}').encode()

    def _text(self, table: str, key: dict[str, Any]) -> str:
        cache_key = (table, tuple(sorted((name, *av.items()) for name, av in key.items())))
        text = self._texts.get(cache_key)
        if text is None:
            text = self._texts[cache_key] = json.dumps(self.item_for_key(table, key))
        return text

    def _respond(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if operation == "BatchWriteItem":
            return 200, {"UnprocessedItems": {}}
        if operation == "BatchGetItem":
            return 200, {"Responses": self._batch_get(body["RequestItems"]), "UnprocessedKeys": {}}
        if operation == "GetItem":
            return 200, {"Item": self.item_for_key(body["TableName"], body["Key"])}
        if operation in _WRITES:
            return 200, {}
        if operation == "DescribeTable":
            return self._describe(body["TableName"])
        return 400, _error("UnknownOperationException", f"not answered here: {operation}")

    def _batch_get(self, request_items: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {
            table: [self.item_for_key(table, key) for key in wanted["Keys"]]
            for table, wanted in request_items.items()
        }

    def _describe(self, table: str) -> tuple[int, dict[str, Any]]:
        schema = self.key_schemas.get(table)
        if schema is None:
            return 400, _error("ResourceNotFoundException", "Requested resource not found")
        definitions = [
            {"AttributeName": key["AttributeName"], "AttributeType": "S"} for key in schema
        ]
        return 200, {
            "Table": {
                "TableName": table,
                "TableStatus": "ACTIVE",
                "KeySchema": schema,
                "AttributeDefinitions": definitions,
            }
        }


def _operation(request: AWSPreparedRequest) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    text = target.decode() if isinstance(target, bytes) else str(target)
    return text.rpartition(".")[2]


def _error(code: str, message: str) -> dict[str, str]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
