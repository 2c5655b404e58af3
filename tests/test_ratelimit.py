"""Shared rate limits, with a fake clock: counted starts per window, not wall-clock asserts."""

from __future__ import annotations

import pytest

from sync.ratelimit import Limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def starts(limits: Limits, clock: FakeClock, sizes: list[int]) -> list[float]:
    times = []
    for size in sizes:
        limits.wait(size)
        times.append(clock.now)
    return times


def most_in_window(times: list[float], weights: list[int], window: float) -> int:
    return max(sum(w for t, w in zip(times, weights) if start <= t < start + window) for start in times)


def test_requests_per_minute_bounds_every_window():
    clock = FakeClock()
    limits = Limits(requests_per_minute=120, sleep=clock.sleep, clock=clock)
    times = starts(limits, clock, [1] * 50)
    assert most_in_window(times, [1] * 50, 1.0) <= 2 + 1
    assert most_in_window(times, [1] * 50, 10.0) <= 20 + 1
    assert times[-1] - times[0] == pytest.approx(49 * 0.5)


def test_events_per_second_bounds_every_window():
    clock = FakeClock()
    limits = Limits(events_per_second=1000, sleep=clock.sleep, clock=clock)
    sizes = [300, 700, 1000, 50, 950, 1000, 1000]
    times = starts(limits, clock, sizes)
    for window in (1.0, 2.0, 3.0):
        assert most_in_window(times, sizes, window) <= 1000 * window + max(sizes)


def test_retry_after_pause_holds_everyone():
    clock = FakeClock()
    limits = Limits(sleep=clock.sleep, clock=clock)
    limits.pause(7)
    limits.wait(1)
    assert clock.now == pytest.approx(1007)
    limits.wait(1)
    assert clock.now == pytest.approx(1007)


def test_no_limits_never_waits():
    clock = FakeClock()
    limits = Limits(sleep=clock.sleep, clock=clock)
    assert starts(limits, clock, [1000] * 10) == [1000.0] * 10
