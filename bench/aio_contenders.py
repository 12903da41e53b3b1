"""The contenders of the ``aio_batch`` scenario, each a write and a get of the same items.

Every contender is a client of one :mod:`bench.responder` endpoint (dummy credentials),
built once and then measured many times on the same object, so its connections, event
loop and caches are warm. An async contender keeps its own event loop (an
``asyncio.Runner``) for its whole life, as a service would: a connection pool belongs to
the loop it was opened in. What each one moves:

* ours, wire: wire items in (``tctf_dynamo.aio.batch.bulk_write`` / ``bulk_get``, and the
  sync ``tctf_dynamo.batch`` functions on ``DynamoDBService.from_endpoint``), wire items out;
  every item checked before the first request leaves (the default), and, async only,
  with ``validate=False`` (items the caller vouches for), which isolates that check's cost;
* ours, entities: entities in, entities out (``Repository.batch_put`` / ``batch_get``; on
  the async side ``AsyncRepository``'s when it has them, otherwise the very steps of the
  sync methods on the async engine: ``plan_put`` per entity into the async streamed
  write, and the async streamed get decoding each answer with ``read_one``);
* aiobotocore: one client (parameter validation off, its fastest setting),
  ``asyncio.gather`` over every 25-item ``BatchWriteItem`` / 100-key ``BatchGetItem``
  request, a semaphore holding ``workers`` in flight, unprocessed entries resent; wire
  items in and out, as ours on the wire path;
* boto3 ``Table.batch_writer()`` (plain Python records in) and a sequential
  ``batch_get_item`` loop (plain Python records out, through ``TypeDeserializer``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack
from typing import Any, TypeVar

from bench import ours, peers, shapes

__all__ = [
    "AIOBOTOCORE",
    "ASYNC_ENTITIES",
    "ASYNC_TRUSTED",
    "ASYNC_WIRE",
    "BATCH_WRITER",
    "ONE_LOOP",
    "PER_LEVEL",
    "SEQUENTIAL_GET",
    "SYNC_ENTITIES",
    "SYNC_WIRE",
    "Contenders",
    "Pair",
]

ASYNC_WIRE = "ours async, wire"
ASYNC_TRUSTED = "ours async, wire, validate=False"
ASYNC_ENTITIES = "ours async, entities"
SYNC_WIRE = "ours sync fast path, wire"
SYNC_ENTITIES = "ours sync fast path, entities"
AIOBOTOCORE = "aiobotocore gather + semaphore"
PER_LEVEL = (ASYNC_WIRE, ASYNC_TRUSTED, ASYNC_ENTITIES, SYNC_WIRE, SYNC_ENTITIES, AIOBOTOCORE)
"""The contenders measured at every concurrency level."""
ONE_LOOP = (ASYNC_WIRE, ASYNC_TRUSTED, ASYNC_ENTITIES, AIOBOTOCORE)
"""The contenders whose whole work runs on the measuring thread (one event loop)."""
BATCH_WRITER = "write: boto3 Table.batch_writer()"
SEQUENTIAL_GET = "get: boto3 sequential batch_get_item loop"
WRITE_CHUNK, GET_CHUNK = 25, 100

T = TypeVar("T")
Action = Callable[[], int]
"""One measured run; returns how many items it wrote or found."""
Pair = tuple[Action, Action]
"""A contender's write and get."""


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _found(values: Sequence[object]) -> int:
    return sum(1 for value in values if value is not None)


class Contenders:
    """The items in every form, and the builders of each contender's write and get.

    Resources (event loops, clients, pools) are released by ``cleanup``.
    """

    def __init__(self, items: int, endpoint: str, cleanup: ExitStack) -> None:
        self.endpoint = endpoint
        self.cleanup = cleanup
        records = shapes.make_records(items)
        self.records = records
        self.wire_items = [shapes.floor_encode(record) for record in records]
        self.wire_keys = [shapes.wire_key(record) for record in records]
        self.puts = [(shapes.TABLE_NAME, item) for item in self.wire_items]
        self.notes: list[str] = []
        """What a reader needs to know about how a contender was built."""

    # ours -----------------------------------------------------------------------------------

    def _runner(self) -> asyncio.Runner:
        runner = asyncio.Runner()
        self.cleanup.callback(runner.close)
        return runner

    def _in_loop(self, runner: asyncio.Runner, job: Callable[[], Awaitable[int]]) -> Action:
        return lambda: runner.run(job())  # type: ignore[arg-type]

    def _async_service(self, workers: int) -> tuple[Any, asyncio.Runner]:
        from tctf_dynamo.aio import AsyncDynamoDBService

        service = AsyncDynamoDBService.from_endpoint(
            self.endpoint, region_name=peers.REGION, max_workers=workers,
            aws_access_key_id=peers.ACCESS_KEY, aws_secret_access_key=peers.SECRET_KEY,
        )  # fmt: skip
        runner = self._runner()
        self.cleanup.callback(lambda: runner.run(service.close()))
        return service, runner

    def _sync_service(self, workers: int) -> Any:
        service = ours.require("DynamoDBService").from_endpoint(
            self.endpoint, region_name=peers.REGION, max_workers=workers,
            aws_access_key_id=peers.ACCESS_KEY, aws_secret_access_key=peers.SECRET_KEY,
        )  # fmt: skip
        self.cleanup.callback(service.close)
        return service

    def async_wire(self, workers: int, *, validate: bool = True) -> Pair:
        from tctf_dynamo.aio import batch as api

        service, runner = self._async_service(workers)
        table = shapes.TABLE_NAME

        async def write() -> int:
            await api.bulk_write(service, puts=self.puts, validate=validate)
            return len(self.puts)

        async def get() -> int:
            return _found(await api.bulk_get(service, table, self.wire_keys, validate=validate))

        return self._in_loop(runner, write), self._in_loop(runner, get)

    def async_trusted(self, workers: int) -> Pair:
        return self.async_wire(workers, validate=False)

    def async_entities(self, workers: int) -> Pair:
        from tctf_dynamo.aio import AsyncRepository

        entity_type = shapes.our_entity()
        entities = [entity_type(**record) for record in self.records]
        keys = [{"customer_id": e.customer_id, "order_id": e.order_id} for e in entities]
        service, runner = self._async_service(workers)
        repository: Any = AsyncRepository(entity_type, service)
        write: Callable[[], Awaitable[int]]
        get: Callable[[], Awaitable[int]]
        if ours.has_method(repository, "batch_put"):
            self._note(f"{ASYNC_ENTITIES}: AsyncRepository.batch_put / batch_get")

            async def write_entities() -> int:
                return len(await repository.batch_put(entities))

            async def get_entities() -> int:
                return _found(await repository.batch_get(keys))

            write, get = write_entities, get_entities

        else:  # what the sync Repository.batch_put / batch_get do, on the async engine
            self._note(
                f"{ASYNC_ENTITIES}: AsyncRepository has no batch methods yet, so this runs "
                "the sync Repository.batch_put / batch_get's own steps on the async engine: "
                "plan_put per entity into tctf_dynamo.aio._streams.stream_writes, and "
                "stream_gets decoding each answer with read_one(from_item)"
            )
            write, get = self._async_entity_streams(service, entity_type, entities, keys)

        return self._in_loop(runner, write), self._in_loop(runner, get)

    def _async_entity_streams(
        self, service: Any, entity_type: Any, entities: list[Any], keys: list[dict[str, Any]]
    ) -> tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[int]]]:
        from tctf_dynamo.aio._streams import stream_gets, stream_writes
        from tctf_dynamo.core.writes import key_fields_of, plan_put
        from tctf_dynamo.model.reading import read_one

        table = shapes.TABLE_NAME

        async def write() -> int:
            written: list[Any] = []
            policy = service.unsafe_values

            def items() -> Iterator[dict[str, Any]]:
                for entity in entities:
                    plan = plan_put(entity, policy=policy)
                    written.append(plan.written)
                    yield plan.body["Item"]

            await stream_writes(service, table, items(), validate=False)
            return len(written)

        async def get() -> int:
            wire_keys = (entity_type.key(**key_fields_of(entity_type, key)) for key in keys)
            found = await stream_gets(
                service,
                table,
                wire_keys,
                lambda item: read_one(entity_type.from_item, item, table, "raise"),
                validate=False,
            )
            return _found(found)

        return write, get

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def sync_wire(self, workers: int) -> Pair:
        from tctf_dynamo import batch as api

        service = self._sync_service(workers)

        def write() -> int:
            api.bulk_write(service, puts=self.puts)
            return len(self.puts)

        def get() -> int:
            return _found(api.bulk_get(service, shapes.TABLE_NAME, self.wire_keys))

        return write, get

    def sync_entities(self, workers: int) -> Pair:
        entity_type = shapes.our_entity()
        entities = [entity_type(**record) for record in self.records]
        keys = [{"customer_id": e.customer_id, "order_id": e.order_id} for e in entities]
        repository = ours.require("Repository")(entity_type, self._sync_service(workers))
        return (
            lambda: len(repository.batch_put(entities)),
            lambda: _found(repository.batch_get(keys)),
        )

    # peers ----------------------------------------------------------------------------------

    def aiobotocore(self, workers: int) -> Pair:
        try:
            from aiobotocore.config import AioConfig
            from aiobotocore.session import get_session
        except ImportError as error:
            raise peers.PeerUnavailable(f"aiobotocore is not installed ({error})") from error
        runner = self._runner()
        stack = AsyncExitStack()
        self.cleanup.callback(lambda: runner.run(stack.aclose()))
        config = AioConfig(max_pool_connections=workers, parameter_validation=False)
        client: Any = runner.run(
            stack.enter_async_context(
                get_session().create_client(
                    "dynamodb",
                    region_name=peers.REGION,
                    endpoint_url=self.endpoint,
                    config=config,
                    aws_access_key_id=peers.ACCESS_KEY,
                    aws_secret_access_key=peers.SECRET_KEY,
                )
            )
        )
        table = shapes.TABLE_NAME

        async def write() -> int:
            gate = asyncio.Semaphore(workers)

            async def send(chunk: Sequence[dict[str, Any]]) -> int:
                request: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in chunk]}
                async with gate:
                    while request:
                        answer = await client.batch_write_item(RequestItems=request)
                        request = answer.get("UnprocessedItems") or {}
                return len(chunk)

            return sum(await asyncio.gather(*map(send, _chunks(self.wire_items, WRITE_CHUNK))))

        async def get() -> int:
            gate = asyncio.Semaphore(workers)

            async def read(chunk: Sequence[dict[str, Any]]) -> int:
                request: dict[str, Any] = {table: {"Keys": list(chunk)}}
                found: list[dict[str, Any]] = []
                async with gate:
                    while request:
                        answer = await client.batch_get_item(RequestItems=request)
                        found += answer["Responses"].get(table, [])
                        request = answer.get("UnprocessedKeys") or {}
                return len(found)

            return sum(await asyncio.gather(*map(read, _chunks(self.wire_keys, GET_CHUNK))))

        return self._in_loop(runner, write), self._in_loop(runner, get)

    def batch_writer(self) -> Action:
        import boto3

        resource = boto3.resource(
            "dynamodb", region_name=peers.REGION, endpoint_url=self.endpoint,
            aws_access_key_id=peers.ACCESS_KEY, aws_secret_access_key=peers.SECRET_KEY,
        )  # fmt: skip
        self.cleanup.callback(resource.meta.client.close)
        table = resource.Table(shapes.TABLE_NAME)
        plain = [shapes.boto3_record(record) for record in self.records]

        def write() -> int:
            with table.batch_writer() as writer:
                for item in plain:
                    writer.put_item(Item=item)
            return len(plain)

        return write

    def sequential_get(self) -> Action:
        from boto3.dynamodb.types import TypeDeserializer

        deserialize = TypeDeserializer().deserialize
        client = peers.boto3_client(self.endpoint)
        self.cleanup.callback(client.close)
        table = shapes.TABLE_NAME

        def get() -> int:
            found = 0
            for chunk in _chunks(self.wire_keys, GET_CHUNK):
                request: dict[str, Any] = {table: {"Keys": list(chunk)}}
                while request:
                    answer = client.batch_get_item(RequestItems=request)
                    for item in answer["Responses"].get(table, []):
                        {name: deserialize(value) for name, value in item.items()}
                        found += 1
                    request = answer.get("UnprocessedKeys") or {}
            return found

        return get

    def per_level(self) -> dict[str, Callable[[int], Pair]]:
        """The builders of the contenders measured at every concurrency level."""
        return {
            ASYNC_WIRE: self.async_wire,
            ASYNC_TRUSTED: self.async_trusted,
            ASYNC_ENTITIES: self.async_entities,
            SYNC_WIRE: self.sync_wire,
            SYNC_ENTITIES: self.sync_entities,
            AIOBOTOCORE: self.aiobotocore,
        }
