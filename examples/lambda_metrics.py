"""A Lambda handler that charts its DynamoDB throttles, retries and latency in CloudWatch.

The service's events go to an :class:`~tctf_dynamo.observability.EmbeddedMetricsSink`:
each invocation writes CloudWatch embedded-metric-format lines to standard output when
the handler returns (``@metrics.log_metrics``, as Powertools Metrics does), and Lambda
turns them into metrics in the ``Orders`` namespace, by operation and table: Throttles,
Retries, UnprocessedItems, ConsumedCapacity, Latency, Failures. No CloudWatch API call,
no extra permission.

The service and the sink are built once per execution environment (outside the
handler), so warm invocations reuse the client's connections.

Run locally (embedded backend): ``python -m examples.lambda_metrics``
"""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tctf_dynamo import DynamoDBService, Entity, Repository, Table
from tctf_dynamo.observability import EmbeddedMetricsSink

table = Table("example-orders")


class Order(Entity, table=table, pk="ORDER#{order_id}", sk="META"):
    order_id: str
    customer_id: str
    total: Decimal


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def make_handler(service: DynamoDBService, metrics: EmbeddedMetricsSink) -> Handler:
    """The handler: stores the orders of the event in batches, then one is read back."""
    orders = Repository(Order, service)

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        del context
        stored = orders.batch_put(
            Order(order_id=o["id"], customer_id=o["customer"], total=Decimal(o["total"]))
            for o in event["orders"]
        )
        first = orders.get(order_id=stored[0].order_id) if stored else None
        return {"stored": len(stored), "first_total": str(first.total) if first else None}

    return handler


def build_service(metrics: EmbeddedMetricsSink) -> DynamoDBService:
    """On Lambda, DynamoDB itself (its region from the environment); elsewhere embedded."""
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        return DynamoDBService.from_endpoint(events=metrics, consumed_capacity=True)
    service = DynamoDBService.embedded(events=metrics, consumed_capacity=True)
    service.create_table(table)
    return service


def main() -> None:
    metrics = EmbeddedMetricsSink(namespace="Orders", service="orders")
    handler = make_handler(build_service(metrics), metrics)
    event = {"orders": [{"id": f"o{i}", "customer": "c1", "total": "9.90"} for i in range(30)]}
    print(handler(event, None))


if __name__ == "__main__":
    main()
