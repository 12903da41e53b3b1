"""The fast path's error answers say what botocore's say about the last attempt.

For each retry mode of a one-attempt client, the same error answer (a failed condition,
which no mode retries, and a throttle, which every mode would) raises a ``ClientError``
with the same text on botocore's path and on the fast path: tracers record that text.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tctf_dynamo.model import Table
from tctf_dynamo.providers.wire import WireClient
from tests.faultproxy import THROTTLE, FaultProxy

pytestmark = pytest.mark.server

ITEM = {"PK": {"S": "A#1"}, "SK": {"S": "META"}}


def client(endpoint: str, mode: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": mode}),
    )


@pytest.mark.parametrize("mode", ["standard", "adaptive", "legacy"])
@pytest.mark.parametrize("fault", ["condition", "throttle"])
def test_error_text_is_botocores(
    fault_proxy: FaultProxy, table_name: str, mode: str, fault: str
) -> None:
    boto = client(fault_proxy.endpoint, mode)
    boto.create_table(**Table(table_name).create_table_request())
    boto.put_item(TableName=table_name, Item=ITEM)
    request = {
        "TableName": table_name,
        "Item": ITEM,
        "ConditionExpression": "attribute_not_exists(PK)",
    }
    wire = WireClient(boto)
    texts = []
    for send in (lambda: boto.put_item(**request), lambda: wire.send("PutItem", request)):
        if fault == "throttle":
            fault_proxy.fail_next("PutItem", THROTTLE)
        with pytest.raises(ClientError) as raised:
            send()
        texts.append(str(raised.value))
    assert texts[0] == texts[1]
    reached = "(reached max retries: 0)" in texts[0]
    assert reached is (mode != "legacy" or fault == "throttle")
    boto.delete_table(TableName=table_name)
