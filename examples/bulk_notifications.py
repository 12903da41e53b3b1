"""Bulk notification delivery: a campaign stores 2,000 notifications in one call.

``Repository.batch_put`` splits the notifications into BatchWriteItem requests of 25 and
sends them on a pool of threads. DynamoDB may hold part of a request back
(UnprocessedItems) or refuse a request outright (throttling); each failure is retried on
its own, with backoff, while the other requests carry on. To show it, the demo runs the
embedded backend behind a fault injector that does both, often, and then counts what
landed: every notification, exactly once.

Run it with ``python -m examples.bulk_notifications``.
"""

from __future__ import annotations

import time
from typing import Literal

from tctf_dynamo import DynamoDBService, Entity, Repository, RetryPolicy, Table
from tctf_dynamo.providers import EmbeddedProvider
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates

CAMPAIGN_SIZE = 2_000

table = Table("notifications")


class Notification(Entity, table=table, pk="USER#{user_id}", sk="NOTIFICATION#{campaign_id}"):
    """One message of a campaign to one user."""

    user_id: str
    campaign_id: str
    channel: Literal["email", "push"]
    title: str


def campaign(campaign_id: str, size: int = CAMPAIGN_SIZE) -> list[Notification]:
    """The notifications of one campaign, one per user."""
    return [
        Notification(
            user_id=f"u{number:05d}",
            campaign_id=campaign_id,
            channel="push" if number % 3 else "email",
            title="Your weekly summary is ready",
        )
        for number in range(size)
    ]


def unreliable_service(seed: int = 7) -> DynamoDBService:
    """The embedded backend behind a fault injector: 30% of batch writes come back
    partly unprocessed and 10% are throttled; retries back off briefly."""
    provider = FaultInjectingProvider(
        EmbeddedProvider(),
        seed=seed,
        rates={"BatchWriteItem": FaultRates(unprocessed=0.3, throttle=0.1)},
    )
    retry = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)
    return DynamoDBService(provider, retry=retry, max_workers=8)


def count_stored(service: DynamoDBService, campaign_id: str) -> int:
    """How many notifications of ``campaign_id`` the table holds (a full scan)."""
    count, start = 0, None
    while True:
        page = service.scan(table, exclusive_start_key=start)
        count += sum(1 for item in page.items if item["campaign_id"] == campaign_id)
        start = page.last_evaluated_key
        if not start:
            return count


def main(service: DynamoDBService | None = None) -> int:
    """Deliver one campaign; returns how many notifications were stored."""
    service = service or unreliable_service()
    service.create_table(table)
    notifications = Repository(Notification, service)
    batch = campaign("spring-sale")
    print(f"campaign spring-sale: storing {len(batch)} notifications")
    started = time.perf_counter()
    notifications.batch_put(batch)
    elapsed = time.perf_counter() - started
    injected = getattr(service.provider, "injected", None)
    if injected:
        faults = ", ".join(f"{count} {kind}" for kind, count in sorted(injected.items()))
        print(f"faults injected and retried: {faults}")
    stored = count_stored(service, "spring-sale")
    print(f"stored {stored} of {len(batch)} notifications in {elapsed:.2f}s, each exactly once")
    return stored


if __name__ == "__main__":
    main()
