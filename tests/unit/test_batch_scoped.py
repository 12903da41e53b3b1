"""One rule for process-wide settings bulk jobs change: made by the first, undone by the last."""

from __future__ import annotations

import sys
import threading

import pytest

from tctf_dynamo.batch._scoped import ScopedSetting
from tctf_dynamo.batch._switching import SWITCH_INTERVAL, quick_switching


class Value:
    def __init__(self, value: int) -> None:
        self.value = value
        self.writes: list[int] = []

    def read(self) -> int:
        return self.value

    def write(self, value: int) -> None:
        self.writes.append(value)
        self.value = value


def _doubled(found: int) -> int | None:
    return found * 2 if found > 0 else None


def test_nested_scopes_restore_the_original_only_when_the_last_leaves() -> None:
    value = Value(5)
    setting = ScopedSetting(value.read, value.write, _doubled)
    with setting.scope():
        assert value.value == 10
        with setting.scope():
            assert value.value == 10
        assert value.value == 10
    assert value.value == 5
    assert value.writes == [10, 5]


def test_the_original_is_restored_when_scopes_end_with_exceptions() -> None:
    value = Value(5)
    setting = ScopedSetting(value.read, value.write, _doubled)
    with pytest.raises(RuntimeError), setting.scope():
        with pytest.raises(ValueError), setting.scope():
            raise ValueError("inner")
        assert value.value == 10
        raise RuntimeError("outer")
    assert value.value == 5


def test_concurrent_scopes_on_threads_restore_once_the_last_leaves() -> None:
    value = Value(5)
    setting = ScopedSetting(value.read, value.write, _doubled)
    inside = threading.Barrier(4)
    leave = threading.Event()
    seen: list[int] = []

    def job() -> None:
        with setting.scope():
            inside.wait()
            leave.wait()
            seen.append(value.value)

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert value.value == 10
    leave.set()
    for thread in threads:
        thread.join()
    assert seen == [10, 10, 10]
    assert value.value == 5
    assert value.writes == [10, 5]


def test_a_value_changed_meanwhile_stands() -> None:
    value = Value(5)
    setting = ScopedSetting(value.read, value.write, _doubled)
    with setting.scope():
        value.value = 7
    assert value.value == 7


def test_a_value_the_change_does_not_apply_to_is_left_alone() -> None:
    value = Value(0)
    setting = ScopedSetting(value.read, value.write, _doubled)
    with setting.scope():
        assert value.value == 0
    assert value.writes == []


def test_the_switch_interval_is_short_while_planning_and_restored_after() -> None:
    found = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        with quick_switching():
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            with quick_switching():
                assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert sys.getswitchinterval() == pytest.approx(0.005)
    finally:
        sys.setswitchinterval(found)
