"""The retry policy, alone."""

from __future__ import annotations

import random
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from sync.http import (
    BACKOFF_CAP_SECONDS, Decision, HostNotFound, KeyRefused, Reply, Retrier, RetriesExhausted, WrongEndpoint, backoff, decide,
    parse_retry_after,
)
from sync.ratelimit import Limits


@pytest.mark.parametrize("status", [200, 201, 204])
def test_2xx_is_accepted(status):
    assert decide(status, None, 1).action == "accept"


@pytest.mark.parametrize("status", [401, 403])
def test_bad_key_stops(status):
    assert decide(status, None, 1).action == "stop"


@pytest.mark.parametrize("status", [None, 408, 429, 500, 502, 503, 504])
def test_transient_answers_are_retried(status):
    decision = decide(status, None, 3)
    assert decision.action == "retry" and 0 < decision.delay <= BACKOFF_CAP_SECONDS


@pytest.mark.parametrize("status", [400, 413, 422])
def test_refused_content_is_rejected_not_retried(status):
    assert decide(status, None, 1).action == "reject"


@pytest.mark.parametrize("status", [404, 405, 410, 501])
def test_a_wrong_endpoint_stops_the_run_instead_of_failing_every_event(status):
    assert decide(status, None, 1) == Decision("stop", why="endpoint")


def test_retry_after_seconds_and_http_date():
    assert decide(429, "7", 1).delay == 7.0
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now.timestamp()) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(1)
    first = [backoff(1, rng) for _ in range(200)]
    fifth = [backoff(5, rng) for _ in range(200)]
    late = [backoff(30, rng) for _ in range(200)]
    assert all(0.25 <= d <= 0.5 for d in first)
    assert all(4 <= d <= 8 for d in fifth) and len(set(fifth)) > 100
    assert all(BACKOFF_CAP_SECONDS / 2 <= d <= BACKOFF_CAP_SECONDS for d in late)


# The one retry loop (push and extract use it), with a fake clock: no real waiting.

class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def retrier(clock: FakeClock, budget: float = 600.0, lines: list[str] | None = None) -> Retrier:
    limits = Limits(sleep=clock.sleep, clock=clock)
    return Retrier(max_retry_seconds=budget, sleep=clock.sleep, limits=limits, on_retry=(lines.append if lines is not None else None), clock=clock)


def replies(*answers: Reply):
    queue = list(answers)
    return lambda: queue.pop(0)


def test_the_loop_retries_what_is_retryable_and_says_so_each_time():
    clock, lines = FakeClock(), []
    reply, decision, tries = retrier(clock, lines=lines).run(
        "http://x/batch/", replies(Reply(503), Reply(None, "connection reset"), Reply(429, "", "7"), Reply(200, "ok"))
    )
    assert (reply.status, decision.action, tries) == (200, "accept", 4)
    assert len(lines) == 3 and lines[0].startswith("retrying: http://x/batch/ gave HTTP 503 on attempt 1; next try in")
    assert "gave connection reset on attempt 2" in lines[1] and lines[2].endswith("next try in 7.0 s")
    assert clock.slept[-1] == 7.0   # Retry-After, as the server asked


def test_a_429_pauses_every_request_hinted_or_not():
    for hint in ("3", None):
        clock = FakeClock()
        loop = retrier(clock)
        loop.run("http://x", replies(Reply(429, "", hint), Reply(200)))
        assert loop.limits.paused_until > 0, hint


def test_refused_content_comes_back_to_the_caller_at_once():
    clock = FakeClock()
    reply, decision, tries = retrier(clock).run("http://x", replies(Reply(400, "bad event")))
    assert (reply.text, decision.action, tries, clock.slept) == ("bad event", "reject", 1, [])


@pytest.mark.parametrize(("answer", "error"), [
    (Reply(401), KeyRefused), (Reply(403), KeyRefused), (Reply(404), WrongEndpoint),
    (Reply(None, "DNS lookup failed"), HostNotFound),
])
def test_final_answers_stop_at_the_first_attempt_with_a_typed_error(answer, error):
    clock = FakeClock()
    with pytest.raises(error) as raised:
        retrier(clock).run("http://x", replies(answer))
    assert raised.value.attempts == 1 and clock.slept == []


def test_the_budget_ends_the_loop_before_a_wait_would_pass_it():
    clock = FakeClock()
    with pytest.raises(RetriesExhausted) as raised:
        retrier(clock, budget=10.0).run("http://x", lambda: Reply(503, "", "4"))
    # waits of 4 s: after 0, 4 and 8 s of trying, the next wait would end past 10 s
    assert raised.value.attempts == 3 and clock.slept == [4.0, 4.0] and raised.value.last == "HTTP 503"
