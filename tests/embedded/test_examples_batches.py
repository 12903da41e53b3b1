"""The batch examples, run the way their tests and users run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from examples import bulk_notifications, cache_warming
from tctf_dynamo import DynamoDBService, RetryPolicy
from tctf_dynamo.providers import EmbeddedProvider, RecordingProvider
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates

ROOT = Path(__file__).resolve().parents[2]


def test_every_notification_lands_exactly_once_despite_faults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    inner = EmbeddedProvider()
    faulty = FaultInjectingProvider(
        inner,
        seed=3,
        rates={"BatchWriteItem": FaultRates(unprocessed=0.4, throttle=0.1, server_error=0.05)},
    )
    service = DynamoDBService(
        faulty, retry=RetryPolicy(max_attempts=20, base_delay=0.0), sleep=lambda _: None
    )
    assert bulk_notifications.main(service) == bulk_notifications.CAMPAIGN_SIZE
    injected = faulty.injected
    assert injected["unprocessed"] > 0 and injected["throttle"] > 0
    clean = DynamoDBService(inner)
    users = set()
    start = None
    while True:
        page = clean.scan(bulk_notifications.table, exclusive_start_key=start)
        users.update(item["user_id"] for item in page.items)
        start = page.last_evaluated_key
        if not start:
            break
    assert users == {f"u{number:05d}" for number in range(bulk_notifications.CAMPAIGN_SIZE)}
    assert "stored 2000 of 2000" in capsys.readouterr().out


def test_cache_warming_reads_every_setting_in_one_batch_get() -> None:
    recorder = RecordingProvider(EmbeddedProvider())
    cache = cache_warming.main(DynamoDBService(recorder))
    assert recorder.operations.count("BatchGetItem") == 1
    assert "GetItem" not in recorder.operations
    (request,) = recorder.requests("BatchGetItem")
    assert len(request["RequestItems"]["configuration"]["Keys"]) == 50
    assert cache.get("feature.00") == "off"
    assert cache.get("feature.49") == "on"
    assert recorder.operations.count("BatchGetItem") == 1  # served from memory


def test_cache_warming_fills_missing_settings_from_defaults() -> None:
    service = DynamoDBService.embedded()
    service.create_table(cache_warming.table)
    repository = cache_warming.Repository(cache_warming.Setting, service)
    cache = cache_warming.SettingsCache(repository, ["feature.xx"])
    assert cache.warm({"feature.xx": "default"}) == 0
    assert cache.get("feature.xx") == "default"


@pytest.mark.parametrize(
    "module, expected",
    [("bulk_notifications", "stored 2000 of 2000"), ("cache_warming", "warmed 50 settings")],
)
def test_examples_run_as_modules(module: str, expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"examples.{module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
