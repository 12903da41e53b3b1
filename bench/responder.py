"""A DynamoDB stand-in over real HTTP, in a process of its own, answering after a delay.

Why a separate process: every client under test then does all of its real work --
building, signing and sending HTTP requests, reading and parsing the answers -- while the
server's CPU is charged to another process, not to the client's ``process_time``. Why a
delay: bulk throughput is decided by how well a client overlaps round trips, which a
local server answering in microseconds cannot show.

The server is plain ``asyncio`` (HTTP/1.1 with keep-alive, ``Content-Length`` bodies), so
its own cost per request is small and the same for every client. Each request is
answered ``delay`` seconds after it arrived, without holding up any other request:

* ``BatchWriteItem``: everything processed (``UnprocessedItems`` empty); the puts are
  counted (not parsed), so a scenario can check that every item arrived;
* ``BatchGetItem``: every key found; the item is synthesised in the benchmark's ``order``
  shape from its key (``ORDER#O<index>`` -> :func:`bench.shapes.floor_encode` of record
  ``index``), its JSON text made once and reused; in table :data:`PYNAMODB_TABLE` with
  ``created_at`` in PynamoDB's own time format (it reads no other); a key of another
  form comes back as the item itself;
* ``DescribeTable``: any table, keyed ``PK`` / ``SK`` (string);
* ``Bench.Stats`` (its own target): the counts since the last call, then reset;
* anything else: a DynamoDB-shaped ``UnknownOperationException``.

Answers carry ``x-amz-crc32`` as DynamoDB's do, so clients check it as they would there.

Run it with :func:`running_responder` (starts ``python -m bench.responder`` and stops it
on the way out) or by hand: ``python -m bench.responder --delay 0.02`` prints its port.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import shapes

__all__ = ["KEY_SCHEMA", "PYNAMODB_TABLE", "running_responder", "stats"]

KEY_SCHEMA = [
    {"AttributeName": "PK", "KeyType": "HASH"},
    {"AttributeName": "SK", "KeyType": "RANGE"},
]
_STATS_TARGET = "Bench.Stats"
_ALL_WRITTEN = b'{"UnprocessedItems":{}}'
_ORDER_PREFIX = "ORDER#O"
PYNAMODB_TABLE = shapes.TABLE_NAME + "-pynamodb"
"""The table whose items come back as PynamoDB stores them (its own time format)."""


class _Store:
    """What the server knows: request counts and the JSON text of each item it served."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._texts: dict[tuple[bool, str, str], str] = {}

    def answer(self, target: str, body: bytes) -> tuple[int, bytes]:
        if target == _STATS_TARGET:
            counts, self.counts = dict(self.counts), Counter()
            return 200, json.dumps(counts).encode()
        operation = target.rpartition(".")[2]
        self.counts[operation] += 1
        if operation == "BatchWriteItem":
            self.counts["puts"] += body.count(b'"PutRequest"')
            self.counts["deletes"] += body.count(b'"DeleteRequest"')
            return 200, _ALL_WRITTEN
        if operation == "BatchGetItem":
            return 200, self._batch_get(json.loads(body)["RequestItems"])
        if operation == "DescribeTable":
            return 200, _describe(json.loads(body)["TableName"])
        error = {
            "__type": "com.amazonaws.dynamodb.v20120810#UnknownOperationException",
            "message": f"not answered here: {operation}",
        }
        return 400, json.dumps(error).encode()

    def _batch_get(self, request_items: dict[str, Any]) -> bytes:
        parts = []
        for table, wanted in request_items.items():
            self.counts["keys"] += len(wanted["Keys"])
            texts = ",".join(self._text(table, key) for key in wanted["Keys"])
            parts.append(f"{json.dumps(table)}:[{texts}]")
        return ('{"Responses":{' + ",".join(parts) + '},"UnprocessedKeys":{}}').encode()

    def _text(self, table: str, key: dict[str, Any]) -> str:
        cache_key = (table == PYNAMODB_TABLE, json.dumps(key.get("PK")), json.dumps(key.get("SK")))
        text = self._texts.get(cache_key)
        if text is None:
            sort_key = key.get("SK", {}).get("S", "")
            if sort_key.startswith(_ORDER_PREFIX):
                item = shapes.floor_encode(shapes.make_record(int(sort_key[len(_ORDER_PREFIX) :])))
                if table == PYNAMODB_TABLE:
                    item["created_at"] = {"S": _pynamodb_time(item["created_at"]["S"])}
            else:
                item = key
            text = self._texts[cache_key] = json.dumps(item)
        return text


def _pynamodb_time(text: str) -> str:
    """An ISO time as PynamoDB's ``UTCDateTimeAttribute`` stores (and insists on reading) it."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def _describe(table: str) -> bytes:
    definitions = [
        {"AttributeName": key["AttributeName"], "AttributeType": "S"} for key in KEY_SCHEMA
    ]
    description = {
        "TableName": table,
        "TableStatus": "ACTIVE",
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": definitions,
    }
    return json.dumps({"Table": description}).encode()


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed as their bytes arrive, each answer written
    ``delay`` after its request was complete (a timer, so nothing else waits)."""

    def __init__(self, store: _Store, delay: float) -> None:
        self._store = store
        self._delay = delay
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            headers = _headers(bytes(self._buffer[:end]))
            total = end + 4 + int(headers.get("content-length", "0"))
            if len(self._buffer) < total:
                return
            body = bytes(self._buffer[end + 4 : total])
            del self._buffer[:total]
            status, payload = self._store.answer(headers.get("x-amz-target", ""), body)
            close = headers.get("connection", "").lower() == "close"
            self._loop.call_later(self._delay, self._send, _response(status, payload), close)

    def _send(self, data: bytes, close: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if close:
            transport.close()


def _headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _response(status: int, payload: bytes) -> bytes:
    reason = "OK" if status == 200 else "Bad Request"
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        "x-amzn-RequestId: bench\r\n"
        f"x-amz-crc32: {zlib.crc32(payload)}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


async def _serve(delay: float, port: int) -> None:
    store = _Store()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(store, delay), "127.0.0.1", port, backlog=256
    )
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    # the parent closes our stdin to stop us (also when it dies without cleaning up)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


@contextmanager
def running_responder(delay: float) -> Iterator[str]:
    """The endpoint of a responder process answering after ``delay`` seconds; the process
    ends with the ``with`` block."""
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.responder", "--delay", repr(delay)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"the responder did not start (said {line!r})")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stats(endpoint: str) -> dict[str, int]:
    """The responder's counts since the last call (requests by operation, ``puts``,
    ``deletes``, ``keys``), then reset."""
    host, _, port = endpoint.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/", b"{}", {"X-Amz-Target": _STATS_TARGET})
        counts: dict[str, int] = json.loads(connection.getresponse().read())
        return counts
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.responder", description=__doc__)
    parser.add_argument("--delay", type=float, default=0.020, help="seconds per request")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    arguments = parser.parse_args(argv)
    asyncio.run(_serve(arguments.delay, arguments.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
