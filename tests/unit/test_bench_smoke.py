"""The benchmark suite runs end to end on tiny inputs and reports what it promises.

No timing is asserted: only that every scenario produces its figures (positive medians,
one value per run), that every ratio whose figures exist is computed from them, and that
the results files have the documented structure. Scenarios that start a server (dynalite,
the HTTP responder of ``batch`` and ``aio_batch``) are marked ``server``.

The rule for peers: every library a scenario compares against that is in the ``dev``
dependency group (boto3, aiobotocore) must be measured here, never skipped; only
PynamoDB may be reported as "not measured", with the reason.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench import (
    aio_batch,
    aio_contenders,
    batch,
    codec,
    coldstart,
    e2e,
    memory,
    peers,
    responder,
    run,
    shapes,
    tracing,
    wide,
)
from bench.harness import Report, ScenarioResult, interleave, render_markdown

SERVER_SCENARIOS = {"e2e", "memory", "tracing", "aio_batch", "batch"}
"""Scenarios that start a server process and talk to it over loopback HTTP."""


def _expected_figures(name: str) -> list[str]:
    workers = batch.PRESETS["smoke"]["workers"]
    smoke = {
        "codec": [
            codec.label(shape, competitor)
            for shape in codec.SHAPES
            for competitor in (codec.OURS_ENTITY, codec.OURS_CODEC, codec.BOTO3, codec.PYNAMODB)
        ]
        + [codec.label("order", codec.FLOOR)],
        "batch": [
            label
            for count in workers
            for kind in ("write", "get")
            for label in (
                batch.ours_label(kind, count),
                batch.raw_label(kind, count, True),
                batch.raw_label(kind, count, False),
            )
        ]
        + [batch.BATCH_WRITER, batch.PYNAMODB_WRITE, batch.SEQUENTIAL_GET, batch.PYNAMODB_GET],
        # every contender, aiobotocore included: it is in the dev group, so never skipped
        "aio_batch": [
            aio_batch.label(who, kind, count)
            for count in aio_batch.PRESETS["smoke"]["workers"]
            for kind in ("write", "get")
            for who in aio_contenders.PER_LEVEL
        ]
        + [aio_contenders.BATCH_WRITER, aio_contenders.SEQUENTIAL_GET],
        "e2e": [
            f"{kind}: {who} {metric}"
            for kind in e2e.KINDS
            for who in ("ours", "raw boto3")
            for metric in ("ops/s", "CPU/op")
        ],
        "coldstart": [
            coldstart.OURS,
            coldstart.BOTO3,
            coldstart.BOTO3_PYDANTIC,
            coldstart.BARE,
            "ours phase: import",
        ],
        "tracing": [
            metric(who, where)
            for who in (
                tracing.FAST,
                tracing.PASS_THROUGH,
                tracing.TRACED,
                tracing.TRACED_IN_MEMORY,
                tracing.TRACED_WRAPPED,
                tracing.LIBRARY,
                tracing.LIBRARY_ALONE,
                tracing.ONE_SPAN,
                tracing.BOTOCORE,
                tracing.BOTOCORE_TRACED,
            )
            for where in ("", tracing.IN_PROCESS)
            for metric in (tracing.figure, tracing.throughput)
        ]
        + [tracing.figure(tracing.SPAN_ALONE), tracing.figure(tracing.SPAN_ALONE_IN_MEMORY)],
        "memory": [
            f"{who}, {size:,} items"
            for who in (memory.OURS, memory.PAGINATOR)
            for size in (memory.PRESETS["smoke"]["small"], memory.PRESETS["smoke"]["large"])
        ],
    }
    return smoke[name]


def _assert_well_formed(result: ScenarioResult, name: str, repeat: int) -> None:
    assert result.name == name
    for label in _expected_figures(name):
        if label in result.figures:
            continue
        # only an optional peer may be missing, and it must say why
        assert "PynamoDB" in label, f"{name}: figure {label!r} missing: {result.skipped}"
        assert "pynamodb" in result.skipped[label].lower()
    for label, figure in result.figures.items():
        assert figure.unit, label
        assert len(figure.runs) == repeat, label
        assert all(run_value > 0 for run_value in figure.runs), label
        assert figure.median > 0, label
    for label, (numerator, denominator) in result.ratio_inputs.items():
        if numerator in result.figures and denominator in result.figures:
            top, bottom = result.figures[numerator].runs, result.figures[denominator].runs
            rounds = [a / b for a, b in zip(top, bottom, strict=True)]
            assert result.ratio_runs[label] == pytest.approx(rounds), label
            assert math.isclose(result.ratios[label], statistics.median(rounds)), label
        else:
            assert label in result.skipped, label
    assert result.ratios, f"{name}: no ratio computed"
    for label, target in result.targets.items():
        assert isinstance(target["met"], bool), label
    json.dumps(result.to_json())  # serialisable as it stands


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(
            module, id=module.NAME, marks=[pytest.mark.server] * (module.NAME in SERVER_SCENARIOS)
        )
        for module in (codec, batch, aio_batch, coldstart, e2e, memory, tracing)
    ],
)
def test_scenario_runs_on_tiny_inputs(module: Any) -> None:
    params = module.PRESETS["smoke"]
    result = module.run(**params)
    _assert_well_formed(result, module.NAME, params["repeat"])


def test_every_scenario_has_the_three_presets() -> None:
    for name in run.SCENARIOS:
        module = run.scenario_module(name)
        assert set(module.PRESETS) == {"full", "quick", "smoke"}, name
        assert name == module.NAME


def test_coldstart_checks_forbidden_imports() -> None:
    result = coldstart.run(**coldstart.PRESETS["smoke"])
    for name in coldstart.FORBIDDEN:
        assert f"{name} not imported" in result.targets
    assert any("import tctf_dynamo" in line for line in result.details)


def test_run_writes_json_and_markdown(tmp_path: Path) -> None:
    argv = ["--only", "codec", "--preset", "smoke", "--results-dir", str(tmp_path)]
    assert run.main(argv) == 0
    data = json.loads((tmp_path / "codec.json").read_text())
    assert data["machine"]["cpu_count"] >= 1
    assert data["preset"] == "smoke"
    scenario = data["scenarios"]["codec"]
    figure = scenario["figures"][codec.label("wide", codec.OURS_ENTITY)]
    assert set(figure) == {"median", "unit", "runs"} and figure["unit"] == "CPU us/item"
    assert scenario["ratios"]["order: ours entity / floor"] > 0
    assert len(scenario["ratio_runs"]["wide: boto3 / ours entity"]) == 1
    assert {"target", "met", "value", "min", "max"} <= set(
        scenario["targets"]["wide: entity round trip vs boto3 serializers"]
    )
    markdown = (tmp_path / "codec.md").read_text()
    assert "## codec:" in markdown and "| figure | median | unit | runs |" in markdown
    assert "| ratio | median | min-max | per round |" in markdown


def test_merge_replaces_only_the_scenarios_run(tmp_path: Path) -> None:
    common = ["--preset", "smoke", "--results-dir", str(tmp_path)]
    assert run.main(["--only", "codec", "--output", "latest", *common]) == 0
    marker = "| extra line only the Markdown holds |\n"
    md_path = tmp_path / "latest.md"
    md_path.write_text(md_path.read_text() + marker)
    for _ in range(2):  # added, then replaced in place
        assert run.main(["--only", "batch", "--merge", *common]) == 0
    data = json.loads((tmp_path / "latest.json").read_text())
    assert list(data["scenarios"]) == ["codec", "batch"]
    assert data["scenarios"]["batch"]["measured_separately"]["preset"] == "smoke"
    markdown = md_path.read_text()
    assert markdown.count("## batch:") == 1 and markdown.count("## codec:") == 1
    assert marker in markdown  # the other section is kept as it was
    assert markdown.index("## codec:") < markdown.index("## batch:")
    assert "Measured in a separate invocation (smoke preset" in markdown
    assert not (tmp_path / "batch.json").exists()


def test_a_failing_scenario_becomes_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**_: Any) -> ScenarioResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(codec, "run", explode)
    result = run.run_scenario("codec", "smoke")
    assert "boom" in result.skipped["scenario"]


# ---------------------------------------------------------------- harness


def test_interleave_warms_up_then_rotates_who_goes_first() -> None:
    order: list[str] = []

    def candidate(name: str) -> Any:
        def measure() -> int:
            order.append(name)
            return len(order)

        return measure

    measured = interleave({name: candidate(name) for name in "abc"}, 3)
    assert order[:3] == ["a", "b", "c"]  # the warm-up, on the measured objects
    assert order[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert measured == {"a": [4, 9, 11], "b": [5, 7, 12], "c": [6, 8, 10]}
    order.clear()
    interleave({"a": candidate("a")}, 2, warm_up=False)
    assert order == ["a", "a"]


def test_ratio_target_and_skip() -> None:
    result = ScenarioResult("x", "title")
    result.add("slow", [4.0, 6.0, 5.0], "s")
    result.add("fast", [1.0, 1.0, 2.5], "s")
    assert result.figures["slow"].median == 5.0
    # paired round by round (4, 6, 2), not the ratio of the medians (5 / 1)
    assert result.ratio("slow / fast", "slow", "fast") == 4.0
    assert result.ratio_runs["slow / fast"] == (4.0, 6.0, 2.0)
    result.target("fast enough", "slow / fast", ">=", 6)
    assert result.targets["fast enough"]["met"] is False
    assert (result.targets["fast enough"]["min"], result.targets["fast enough"]["max"]) == (2, 6)
    result.target("not slower", "slow / fast", "<=", 6)
    assert result.targets["not slower"]["met"] is True
    assert result.ratio("missing", "slow", "absent") is None
    assert "absent" in result.skipped["missing"]
    result.target("unjudged", "missing", ">=", 1)
    assert "unjudged" in result.skipped and "unjudged" not in result.targets


def test_markdown_shows_figures_ratios_and_verdicts() -> None:
    result = ScenarioResult("demo", "a demo")
    result.add("ours", [2.0], "ms")
    result.add("theirs", [3.0], "ms")
    result.ratio("theirs / ours", "theirs", "ours")
    result.target("faster", "theirs / ours", ">=", 2)
    result.skip("peer", "not installed")
    report = Report({"python": "3", "platform": "p", "cpu_count": 2}, {"demo": result})
    text = render_markdown(report)
    assert "| ours | 2.00 | ms | 2.00 |" in text
    assert "| theirs / ours | 1.50x | 1.50-1.50 | 1.50 |" in text
    assert "**not met**" in text
    assert "not measured: peer: not installed" in text


# ---------------------------------------------------------------- the HTTP responder


@pytest.mark.server
def test_the_http_responder_answers_in_the_benchmark_shape_and_counts() -> None:
    records = [shapes.make_record(index) for index in (3, 4)]
    with responder.running_responder(0.0) as endpoint:
        client = peers.boto3_client(endpoint)
        puts = [{"PutRequest": {"Item": shapes.floor_encode(record)}} for record in records]
        assert client.batch_write_item(RequestItems={"t": puts})["UnprocessedItems"] == {}
        keys = [shapes.wire_key(record) for record in records]
        answer = client.batch_get_item(RequestItems={"t": {"Keys": keys}})
        assert answer["UnprocessedKeys"] == {}
        found = [shapes.floor_decode(item) for item in answer["Responses"]["t"]]
        assert found == records
        schema = client.describe_table(TableName="any")["Table"]["KeySchema"]
        assert schema == responder.KEY_SCHEMA
        with pytest.raises(ClientError, match="UnknownOperationException"):
            client.list_tables()
        counts = responder.stats(endpoint)
        assert counts["puts"] == 2 and counts["keys"] == 2
        assert counts["BatchWriteItem"] == counts["BatchGetItem"] == 1
        assert responder.stats(endpoint) == {}  # reset by the previous call


@pytest.mark.server
def test_a_run_that_loses_items_is_refused() -> None:
    with responder.running_responder(0.0) as endpoint:
        measure = aio_batch._measure(lambda: 5, "write", 5, endpoint)
        with pytest.raises(RuntimeError, match="0 puts sent"):
            measure()


# ---------------------------------------------------------------- shapes


def test_the_latency_floor_is_requests_over_workers_times_the_delay() -> None:
    assert batch.latency_floor(10_000, 25, 8, 0.020) == pytest.approx(1.0)
    assert batch.latency_floor(10_000, 100, 8, 0.020) == pytest.approx(0.26)


def test_the_wide_record_round_trips_in_every_form() -> None:
    record = wide.make_record(7)
    entity_type = wide.our_entity()
    entity = entity_type(**record)
    assert entity_type.from_item(entity.to_item()) == entity
    assert wide.boto3_record(record)["created_at"] == record["created_at"].isoformat()


def test_every_form_of_the_record_round_trips() -> None:
    record = shapes.make_record(42)
    assert shapes.floor_decode(shapes.floor_encode(record)) == record
    entity_type = shapes.our_entity()
    entity = entity_type(**record)
    assert entity_type.from_item(entity.to_item()) == entity
    assert entity.to_item()["PK"] == shapes.wire_key(record)["PK"]


@pytest.mark.server
def test_the_http_responder_answers_pynamodb_in_its_own_time_format() -> None:
    records = [shapes.make_record(index) for index in (0, 1)]
    with responder.running_responder(0.0) as endpoint:
        model = peers.pynamodb_model(endpoint, responder.PYNAMODB_TABLE)
        keys = [(f"CUSTOMER#{r['customer_id']}", f"ORDER#{r['order_id']}") for r in records]
        found = sorted(model.batch_get(keys), key=lambda order: order.order_id)
    assert [order.created_at for order in found] == [r["created_at"] for r in records]
    assert [order.quantity for order in found] == [r["quantity"] for r in records]
