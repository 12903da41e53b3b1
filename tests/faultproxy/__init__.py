"""A fault-injecting HTTP proxy between a DynamoDB client and a local server.

Why: the promises of the library (exactly-once transactions, truthful outcomes, deadlines,
the circuit breaker) are about what happens on the wire, so faults are injected there, not
by patching Python: a throttle, a reset before or after the request reached the server, a
slow commit, a lost answer after the write was applied, a server that hangs. And moto
server ignores ``ClientRequestToken``; the proxy keeps DynamoDB's token semantics for
TransactWriteItems (see :mod:`tests.faultproxy.tokens`) so replays behave as on AWS.

How::

    with FaultProxy(moto_endpoint) as proxy:       # or the ``fault_proxy`` fixture
        client = boto3.client("dynamodb", endpoint_url=proxy.endpoint, ...)
        proxy.fail_next("PutItem", RESET_AFTER)      # applied, the client sees no answer
        proxy.fail_next("TransactWriteItems", Fault.delay_before(2.0))
        proxy.fail_next("BatchWriteItem", UNPROCESSED)  # first entry applied, rest returned
        proxy.set_rule(lambda info: THROTTLE if info.sequence == 1 else None)
        proxy.plan_random(rate=0.3, seed=7)          # randomized workloads
        proxy.set_mode(ProxyMode.HANG)               # whole-proxy outage
        proxy.stats("PutItem").forwarded             # what reached the server
        proxy.records("PutItem")                     # each request's fault and outcome

Queued faults (``fail_next``) come first, then the rule. Whole-proxy modes apply before
both. Faults that do not forward (throttles, 5xx, reset before) never claim a token.
"""

from tests.faultproxy.faults import (
    DEFAULT_RANDOM_FAULTS,
    ERROR_500,
    ERROR_500_AFTER,
    ERROR_503,
    ERROR_503_AFTER,
    HANG_AFTER,
    RESET_AFTER,
    RESET_BEFORE,
    THROTTLE,
    THROTTLING,
    UNPROCESSED,
    Fault,
    FaultKind,
    ProxyMode,
    RandomPlan,
    RequestInfo,
    Rule,
)
from tests.faultproxy.server import FaultProxy
from tests.faultproxy.stats import OperationStats, Outcome, RequestRecord

__all__ = [
    "DEFAULT_RANDOM_FAULTS",
    "ERROR_500",
    "ERROR_500_AFTER",
    "ERROR_503",
    "ERROR_503_AFTER",
    "HANG_AFTER",
    "RESET_AFTER",
    "RESET_BEFORE",
    "THROTTLE",
    "THROTTLING",
    "UNPROCESSED",
    "Fault",
    "FaultKind",
    "FaultProxy",
    "OperationStats",
    "Outcome",
    "ProxyMode",
    "RandomPlan",
    "RequestInfo",
    "RequestRecord",
    "Rule",
]
