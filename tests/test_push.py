"""`sync push --destination posthog` over real HTTP to a PostHog-compatible endpoint."""

from __future__ import annotations

import json
import uuid

import duckdb
import pytest

from conftest import API_KEY, FIXTURES, push_env
from sync.local_capture import Fault


def query(warehouse, sql, params=None):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def mart_events(warehouse):
    rows = query(warehouse, "select uuid, event, distinct_id, timestamp, properties from events order by event_at, uuid")
    return [
        {"uuid": u, "event": e, "distinct_id": d, "timestamp": t, "properties": json.loads(p)}
        for u, e, d, t, p in rows
    ]


def test_push_sends_every_event_once_exactly_as_the_mart_has_it(small_warehouse, capture, cli):
    result = cli("push", "--destination", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "6 events delivered in 1 requests, 0 failed" in result.output

    assert capture.state.events == mart_events(small_warehouse)  # same events, same order (oldest first)
    (request,) = capture.state.requests
    assert request["gzip"] is True and request["historical_migration"] is True

    assert query(small_warehouse, "select count(*), count(distinct uuid) from sync.deliveries") == [(6, 6)]
    assert query(small_warehouse, "select status, http_status, attempts, events from sync.batches") == [("accepted", 200, 1, 6)]
    assert query(small_warehouse, "select loaded_through_load_id from sync.watermarks") == [(1,)]

    again = cli("push", "--destination", "posthog", "--no-progress", env=push_env(capture))
    assert again.exit_code == 0 and "nothing pending" in again.output
    assert len(capture.state.requests) == 1


@pytest.mark.parametrize(("batch_size", "requests"), [(1, 6), (4, 2), (6, 1), (1000, 1)])
def test_batch_sizes_leave_no_leftovers(small_warehouse, capture, cli, batch_size, requests):
    result = cli("push", "-d", "posthog", "--batch-size", str(batch_size), "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert len(capture.state.requests) == requests
    assert sorted(e["uuid"] for e in capture.state.events) == sorted(e["uuid"] for e in mart_events(small_warehouse))


def test_5xx_and_connection_reset_are_retried(small_warehouse, capture, cli):
    capture.state.script(503, "reset", 502)
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in capture.state.requests] == [503, "reset", 502, 200]
    assert query(small_warehouse, "select attempts, status from sync.batches") == [(4, "accepted")]
    assert len(capture.state.events) == 6


def test_429_retry_after_is_honoured(small_warehouse, capture, cli):
    capture.state.script(Fault(429, {"Retry-After": "1"}))
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    first, second = capture.state.requests
    assert (first["status"], second["status"]) == (429, 200)
    assert second["at"] - first["at"] >= 0.95


def test_wrong_key_stops_at_once_naming_the_variable_not_the_value(small_warehouse, capture, cli):
    wrong = "phc_wrong_secret_value"
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture, key=wrong))
    assert result.exit_code == 1
    assert "$POSTHOG_API_KEY" in result.output and "401" in result.output
    assert wrong not in result.output and API_KEY not in result.output
    assert len(capture.state.requests) == 1
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(0,)]
    assert query(small_warehouse, "select outcome from sync.runs") == [("failed",)]


def test_unreachable_host_gives_up_cleanly(small_warehouse, cli):
    env = {"POSTHOG_HOST": "http://127.0.0.1:9", "POSTHOG_API_KEY": API_KEY}
    result = cli("push", "-d", "posthog", "--no-progress", "--max-retry-seconds", "1", env=env)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "connection refused" in lines[0] and "rerun `sync push` to resume" in lines[0]
    assert "Traceback" not in result.output
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(0,)]


def test_outage_mid_run_then_resume_sends_only_the_rest(small_warehouse, capture, cli):
    capture.state.outage_after = 2
    first = cli("push", "-d", "posthog", "--batch-size", "2", "--max-retry-seconds", "0.5", "--no-progress",
                env=push_env(capture))
    assert first.exit_code == 1 and "gave up" in first.output
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(4,)]
    assert query(small_warehouse, "select loaded_through_load_id from sync.watermarks") == [(0,)]

    status = json.loads(cli("status", "--json").output)["destinations"][0]
    assert (status["pending"], status["delivered"], status["last_run"]["outcome"]) == (2, 4, "failed")

    capture.state.outage_after = None
    second = cli("push", "-d", "posthog", "--batch-size", "2", "--no-progress", env=push_env(capture))
    assert second.exit_code == 0, second.output
    assert "2 events delivered" in second.output
    received = [e["uuid"] for e in capture.state.events]
    assert len(received) == len(set(received)) == 6


def test_full_refresh_resends_nothing_and_late_older_events_are_sent(small_warehouse, capture, cli, dbt, tmp_path):
    assert cli("push", "-d", "posthog", "--no-progress", env=push_env(capture)).exit_code == 0
    dbt("build", "--full-refresh")
    assert "nothing pending" in cli("push", "-d", "posthog", "--no-progress", env=push_env(capture)).output

    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"event":"Old","properties":{"time":1300000000,"distinct_id":"zed","$insert_id":"late-1"}}\n'
        '{"event":"$mp_web_page_view","properties":{"time":1602611311,"distinct_id":"alice","$insert_id":"ins-001"}}\n',
        encoding="utf-8",
    )
    assert cli("load", "mixpanel", str(late)).exit_code == 0
    dbt("build")
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0 and "1 events delivered" in result.output
    assert capture.state.events[-1]["uuid"] == str(uuid.uuid5(uuid.UUID(bytes=b"posthog_mixpanel"), "late-1"))
    assert capture.state.events[-1]["timestamp"] == "2011-03-13T07:06:40.000000Z"
    assert len({e["uuid"] for e in capture.state.events}) == len(capture.state.events) == 7


def test_refused_event_is_isolated_and_the_rest_delivered(small_warehouse, capture, cli):
    poison = str(uuid.uuid5(uuid.UUID(bytes=b"posthog_mixpanel"), "ins-003"))
    capture.state.refuse_uuids.add(poison)
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1
    assert "5 events delivered" in result.output and "1 failed" in result.output
    assert sorted(e["uuid"] for e in capture.state.events) == sorted(
        e["uuid"] for e in mart_events(small_warehouse) if e["uuid"] != poison
    )
    failed = query(small_warehouse, "select uuid, http_status, reason, message from sync.failed_events")
    assert [(u, h, r) for u, h, r, _ in failed] == [(poison, 400, "refused")]
    assert "refused" in failed[0][3]
    # a rerun does not resend the refused event or anything delivered
    before = len(capture.state.requests)
    assert "nothing pending" in cli("push", "-d", "posthog", "--no-progress", env=push_env(capture)).output
    assert len(capture.state.requests) == before


def test_the_key_is_never_stored_in_the_warehouse(small_warehouse, capture, cli):
    capture.state.script(503)
    cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    con = duckdb.connect(str(small_warehouse), read_only=True)
    try:
        for (table,) in con.execute("select table_name from information_schema.tables where table_schema = 'sync'").fetchall():
            dump = json.dumps(con.execute(f"select * from sync.{table}").fetchall(), default=str)
            assert API_KEY not in dump, table
    finally:
        con.close()


def test_push_before_dbt_build_says_what_to_do(warehouse, capture, cli):
    assert cli("load", "mixpanel", str(FIXTURES / "mixpanel_small.jsonl")).exit_code == 0
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1
    assert result.output.strip() == "error: the warehouse has no `events` mart yet: run `dbt build` first"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POSTHOG_API_KEY": "k"}, "no PostHog host: set $POSTHOG_HOST"),
        ({"POSTHOG_HOST": "http://127.0.0.1:1"}, "no PostHog project API key: set $POSTHOG_API_KEY"),
        ({"POSTHOG_HOST": "us.i.posthog.com", "POSTHOG_API_KEY": "k"}, "must start with http:// or https://"),
    ],
)
def test_missing_configuration_is_one_clear_line(small_warehouse, cli, monkeypatch, env, message):
    monkeypatch.delenv("POSTHOG_HOST", raising=False)
    monkeypatch.delenv("POSTHOG_API_KEY", raising=False)
    result = cli("push", "-d", "posthog", env=env)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and message in result.output


def test_ctrl_c_finishes_the_batch_in_flight_saves_state_and_exits_130(small_warehouse, capture, cli):
    import os
    import signal
    import subprocess
    import sys
    import time

    capture.state.latency_seconds = 0.3
    env = {**os.environ, **push_env(capture), "WAREHOUSE_PATH": str(small_warehouse)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync", "push", "-d", "posthog", "--batch-size", "1", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while len(capture.state.events) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "rerun `sync push` to resume" in err and "Traceback" not in err
    delivered = query(small_warehouse, "select count(*) from sync.deliveries")[0][0]
    assert 2 <= delivered < 6
    assert delivered == len(capture.state.events)  # what was accepted is exactly what is recorded
    assert query(small_warehouse, "select outcome from sync.runs") == [("interrupted",)]

    capture.state.latency_seconds = 0
    assert cli("push", "-d", "posthog", "--no-progress", env=push_env(capture)).exit_code == 0
    received = [e["uuid"] for e in capture.state.events]
    assert len(received) == len(set(received)) == 6
