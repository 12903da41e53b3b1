"""The table that names aiohttp's failures as the sync path would, row by row.

The proxy tests cover resets, hangs and refusals on a real wire; these are the rows a
local proxy cannot produce (TLS, DNS, payloads cut short, timeouts while connecting),
and the rule that a failure's name depends on whether a connection was obtained.
"""

from __future__ import annotations

import ssl

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from botocore import exceptions as boto_errors

from tctf_dynamo.core.outcomes import Failure, failure_class
from tctf_dynamo.providers.aio_transport import transport_error
from tctf_dynamo.providers.errors import translate_exception

URL = "https://dynamodb.eu-west-1.amazonaws.com/"
KEY = ConnectionKey("dynamodb.eu-west-1.amazonaws.com", 443, True, True, None, None, None)

CASES = [
    ("dns", aiohttp.ClientConnectorDNSError(KEY, OSError(-2, "no such host")), False,
     "EndpointConnectionError", Failure.NOT_SENT),
    ("refused", aiohttp.ClientConnectorError(KEY, ConnectionRefusedError(111, "refused")), False,
     "EndpointConnectionError", Failure.NOT_SENT),
    ("tls", aiohttp.ClientConnectorCertificateError(KEY, ssl.SSLError("bad cert")), False,
     "SSLError", Failure.AMBIGUOUS),
    ("connect timeout", aiohttp.ConnectionTimeoutError("Connection timeout"), False,
     "ConnectTimeoutError", Failure.NOT_SENT),
    ("whole-attempt timeout while connecting", TimeoutError(), False,
     "ConnectTimeoutError", Failure.NOT_SENT),
    ("whole-attempt timeout after", TimeoutError(), True,
     "ReadTimeoutError", Failure.AMBIGUOUS),
    ("socket read timeout", aiohttp.SocketTimeoutError("read"), True,
     "ReadTimeoutError", Failure.AMBIGUOUS),
    ("reset after", aiohttp.ClientOSError(104, "Connection reset by peer"), True,
     "ConnectionClosedError", Failure.AMBIGUOUS),
    ("server went away", aiohttp.ServerDisconnectedError(), True,
     "ConnectionClosedError", Failure.AMBIGUOUS),
    ("payload cut short", aiohttp.ClientPayloadError("incomplete"), True,
     "ConnectionClosedError", Failure.AMBIGUOUS),
    ("other client error", aiohttp.ClientError("odd"), True, "HTTPClientError", Failure.AMBIGUOUS),
]  # fmt: skip


@pytest.mark.parametrize(
    ("failure", "connected", "name", "outcome"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_failure_gets_the_sync_paths_name_and_outcome(
    failure: Exception, connected: bool, name: str, outcome: Failure
) -> None:
    mapped = transport_error(failure, connected=connected, url=URL)
    assert type(mapped).__name__ == name
    assert mapped.__cause__ is failure
    error = translate_exception(mapped, "PutItem")
    assert error.details["exception"] == name
    assert failure_class(error) is outcome


def test_what_is_no_transport_failure_passes_unchanged() -> None:
    checksum = boto_errors.ChecksumError(
        checksum_type="crc32", expected_checksum="1", actual_checksum="2"
    )
    for failure in (checksum, ValueError("not json")):
        assert transport_error(failure, connected=True, url=URL) is failure
