"""Services for the outcome tests: one through the fault proxy, one straight to the truth."""

from __future__ import annotations

from tctf_dynamo import DynamoDBService, RetryPolicy
from tctf_dynamo.providers import Boto3Provider

READ_TIMEOUT = 0.5
"""Seconds before an unanswered request counts as lost: a held (slow) request outlives it."""
SLOW_COMMIT = 1.2
"""Seconds the proxy holds a slow commit: longer than the read timeout and than the retry
policy's attempt budget, shorter than the operation deadline."""
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
"""What moto server accepts (through the proxy or straight)."""
PATIENT = RetryPolicy(max_attempts=3, base_delay=0.02, max_delay=0.2, attempt_timeout=READ_TIMEOUT)


def through(
    endpoint: str,
    *,
    timeout: float = 6.0,
    retry: RetryPolicy = PATIENT,
    read_timeout: float = READ_TIMEOUT,
) -> DynamoDBService:
    """A service whose requests go to ``endpoint`` with a short read timeout."""
    provider = Boto3Provider.from_endpoint(
        endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        connect_timeout=read_timeout,
        read_timeout=read_timeout,
    )
    return DynamoDBService(provider, retry=retry, timeout=timeout)


def truth(endpoint: str) -> DynamoDBService:
    """A service straight to the server, for reading what is really stored."""
    return DynamoDBService.from_endpoint(
        endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
