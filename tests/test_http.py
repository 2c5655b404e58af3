"""The retry policy, alone."""

from __future__ import annotations

import random
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from sync.http import BACKOFF_CAP_SECONDS, Decision, backoff, decide, parse_retry_after


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
