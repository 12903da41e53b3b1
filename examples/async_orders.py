"""An async web service in the shape FastAPI apps take, on the async API.

A plain ASGI application (no framework needed): a lifespan that opens one
:class:`~tctf_dynamo.AsyncDynamoDBService` for the process and closes it at shutdown,
and two routes whose handlers await the library:

* ``POST /orders`` places an order: one :class:`~tctf_dynamo.AsyncUnitOfWork` debits the
  customer's wallet on condition that it covers the price and writes the order, all or
  nothing. A refused debit answers 409 and nothing is written.
* ``GET /orders/{customer}`` lists the customer's orders, newest first, with
  ``async for`` over a query.

Handlers run concurrently on one event loop: the embedded backend serves them from its
own worker thread, so no handler blocks the loop while DynamoDB works. ``main()``
drives the app in process with concurrent requests (as an ASGI server would).

Run: ``python -m examples.async_orders``
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tctf_dynamo import (
    AsyncDynamoDBService,
    AsyncRepository,
    AsyncUnitOfWork,
    Entity,
    Table,
    TransactionCancelledError,
    attr,
)

table = Table("example-async-orders")


class Wallet(Entity, table=table, pk="CUSTOMER#{customer}", sk="WALLET"):
    customer: str
    balance: Decimal


class Order(Entity, table=table, pk="CUSTOMER#{customer}", sk="ORDER#{placed_at}#{order_id}"):
    customer: str
    order_id: str
    placed_at: datetime
    price: Decimal


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class OrdersApp:
    """The ASGI application: ``await app(scope, receive, send)``."""

    def __init__(self, service_factory: Callable[[], AsyncDynamoDBService]) -> None:
        self._factory = service_factory
        self.service: AsyncDynamoDBService | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        status, payload = await self._route(scope, receive)
        body = json.dumps(payload, default=str).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.service = self._factory()
                await self.service.create_table(table)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.service is not None:
                    await self.service.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        assert self.service is not None, "the lifespan starts the service"
        method, path = scope["method"], scope["path"].strip("/").split("/")
        if method == "POST" and path == ["orders"]:
            body = json.loads((await receive()).get("body") or b"{}")
            return await place_order(self.service, **body)
        if method == "GET" and len(path) == 2 and path[0] == "orders":
            return 200, await list_orders(self.service, path[1])
        if method == "POST" and path == ["wallets"]:
            body = json.loads((await receive()).get("body") or b"{}")
            wallet = Wallet(customer=body["customer"], balance=Decimal(body["balance"]))
            await AsyncRepository(Wallet, self.service).put(wallet)
            return 201, {"customer": wallet.customer, "balance": str(wallet.balance)}
        return 404, {"error": "not found"}


async def place_order(
    service: AsyncDynamoDBService, *, customer: str, order_id: str, price: str
) -> tuple[int, Any]:
    """Debit the wallet (only if it covers the price) and write the order, atomically."""
    amount = Decimal(price)
    order = Order(customer=customer, order_id=order_id, placed_at=datetime.now(UTC), price=amount)
    try:
        async with AsyncUnitOfWork(service) as uow:
            uow.update(
                Wallet,
                {"customer": customer},
                add={"balance": -amount},
                condition=attr("balance") >= amount,
            )
            uow.create(order)
    except TransactionCancelledError as error:
        reason = error.reasons[0].code.value if error.reasons else error.code.value
        return 409, {"error": "insufficient funds", "reason": reason}
    return 201, {"order_id": order_id, "price": str(amount)}


async def list_orders(service: AsyncDynamoDBService, customer: str) -> list[dict[str, str]]:
    """The customer's orders, newest first."""
    query = AsyncRepository(Order, service).query(customer=customer).reverse()
    return [{"order_id": order.order_id, "price": str(order.price)} async for order in query]


async def request(app: OrdersApp, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One HTTP request through the ASGI app, as a server would make it."""
    sent: list[Message] = []
    payload = json.dumps(body).encode() if body is not None else b""

    async def receive() -> Message:
        return {"type": "http.request", "body": payload}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "method": method, "path": path}, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


async def serve(app: OrdersApp, scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run the app's lifespan around ``scenario`` (startup, requests, shutdown)."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        return await scenario()
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan


async def demo(app: OrdersApp) -> dict[str, Any]:
    """Fund a wallet with 100, then race eight orders of 30 at once: three fit."""
    await request(app, "POST", "/wallets", {"customer": "ada", "balance": "100"})
    placed = await asyncio.gather(
        *(
            request(app, "POST", "/orders", {"customer": "ada", "order_id": f"o{i}", "price": "30"})
            for i in range(8)
        )
    )
    statuses = sorted(status for status, _ in placed)
    _, orders = await request(app, "GET", "/orders/ada")
    assert app.service is not None
    wallet = await AsyncRepository(Wallet, app.service).get_or_raise(
        customer="ada", consistent=True
    )
    return {"statuses": statuses, "orders": orders, "balance": wallet.balance}


def main(
    factory: Callable[[], AsyncDynamoDBService] = AsyncDynamoDBService.embedded,
) -> dict[str, Any]:
    app = OrdersApp(factory)
    observed: dict[str, Any] = asyncio.run(serve(app, lambda: demo(app)))
    print(f"answers: {observed['statuses']}")
    print(f"orders: {[o['order_id'] for o in observed['orders']]}")
    print(f"balance left: {observed['balance']}")
    return observed


if __name__ == "__main__":
    main()
