"""AsyncBotocoreProvider without a network: aiobotocore's Stubber, retries, tags, timeouts."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from aiobotocore.session import get_session
from aiobotocore.stub import AioStubber
from botocore.config import Config

from tctf_dynamo.errors import ConditionFailedError, ErrorCode
from tctf_dynamo.providers import AsyncBotocoreProvider, client_config
from tctf_dynamo.providers.attempts import USER_AGENT_TAG
from tctf_dynamo.providers.clientconfig import client_attempts

GET = {"TableName": "things", "Key": {"PK": {"S": "a"}}}
OPTIONS: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "x",
    "aws_secret_access_key": "x",
}


def test_a_stubbed_client_answers_and_fails_through_the_provider() -> None:
    async def scenario() -> tuple[Any, Any, list[Any]]:
        async with get_session().create_client(
            "dynamodb", endpoint_url="http://127.0.0.1:9", config=client_config(), **OPTIONS
        ) as client:
            seen: list[Any] = []
            client.meta.events.register(
                "before-parameter-build.dynamodb.GetItem", lambda params, **_: seen.append(params)
            )
            provider = AsyncBotocoreProvider(client, close_client=False)
            with AioStubber(client) as stubber:
                stubber.add_response("get_item", {"Item": {"PK": {"S": "a"}}}, GET)
                stubber.add_client_error(
                    "put_item", "ConditionalCheckFailedException", http_status_code=400
                )
                got = await provider.call("GetItem", GET)
                with pytest.raises(ConditionFailedError) as raised:
                    await provider.call("PutItem", {"TableName": "things", "Item": {}})
                stubber.assert_no_pending_responses()
            await provider.close()
            return got, raised.value, seen

    got, error, seen = asyncio.run(scenario())
    assert got == {"Item": {"PK": {"S": "a"}}}
    assert error.code is ErrorCode.CONDITION_FAILED
    assert error.details["aws_code"] == "ConditionalCheckFailedException"
    assert len(seen) == 1, "client events fire, as on botocore's path"


def test_clients_it_opens_never_retry_and_the_users_budget_is_kept() -> None:
    async def scenario() -> tuple[int, int | None, bool]:
        provider = await AsyncBotocoreProvider.from_endpoint(
            "http://127.0.0.1:9", config=Config(retries={"total_max_attempts": 5}), **OPTIONS
        )
        async with provider:
            return client_attempts(provider.client), provider.requested_attempts, False

    attempts, requested, _ = asyncio.run(scenario())
    assert attempts == 1
    assert requested == 5


def test_a_retrying_client_is_warned_about_once() -> None:
    async def scenario() -> list[warnings.WarningMessage]:
        async with get_session().create_client(
            "dynamodb", endpoint_url="http://127.0.0.1:9", **OPTIONS
        ) as client:
            provider = AsyncBotocoreProvider(client, close_client=False)
            with AioStubber(client) as stubber:
                for _ in range(2):
                    stubber.add_response("get_item", {}, GET)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    await provider.call("GetItem", GET)
                    await provider.call("GetItem", GET)
            return caught

    caught = asyncio.run(scenario())
    assert [str(w.message).split(" goes")[0] for w in caught] == ["GetItem"]


def test_its_calls_carry_the_tag_and_the_read_timeout() -> None:
    async def scenario() -> tuple[list[str], list[Any]]:
        agents: list[str] = []
        timeouts: list[Any] = []
        async with get_session().create_client(
            "dynamodb", endpoint_url="http://127.0.0.1:9", config=client_config(), **OPTIONS
        ) as client:

            def answer(request: Any, **_: Any) -> Any:
                agents.append(request.headers["User-Agent"].decode())
                timeouts.append(request.context.get("read_timeout"))
                raise ConnectionAbortedError("stop here")

            client.meta.events.register("before-send.dynamodb", answer)
            provider = AsyncBotocoreProvider(client, close_client=False)
            for timeout in (None, 0.25):
                with pytest.raises(Exception):
                    await provider.call("GetItem", GET, timeout=timeout)
        return agents, timeouts

    agents, timeouts = asyncio.run(scenario())
    assert all(USER_AGENT_TAG in agent for agent in agents)
    assert timeouts == [None, 0.25]


def test_a_closed_provider_refuses_calls() -> None:
    async def scenario() -> Any:
        provider = await AsyncBotocoreProvider.from_endpoint("http://127.0.0.1:9", **OPTIONS)
        await provider.close()
        await provider.close()
        with pytest.raises(Exception) as raised:
            await provider.call("GetItem", GET)
        return raised.value

    assert asyncio.run(scenario()).code is ErrorCode.INVALID_STATE
