"""`sync push --destination posthog` over real HTTP to a PostHog-compatible endpoint."""

from __future__ import annotations

import json
import uuid

import duckdb
import pytest

from tests.support.helpers import API_KEY, FIXTURES, push_env, query
from tests.support.capture import Fault


def mart_events(warehouse):
    """The events as PostHog is to receive them: the mart's properties and its posthog_properties."""
    rows = query(warehouse, "select uuid, event, distinct_id, timestamp, properties, posthog_properties"
                            " from events order by event_at, uuid")
    return [
        {"uuid": u, "event": e, "distinct_id": d, "timestamp": t, "properties": json.loads(p) | json.loads(extra)}
        for u, e, d, t, p, extra in rows
    ]


def test_push_sends_every_event_once_exactly_as_the_mart_has_it(small_warehouse, capture, cli):
    result = cli("push", "--destination", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "6 events delivered in 1 requests, 0 failed" in result.output

    assert capture.state.events == mart_events(small_warehouse)  # same events, same order (oldest first)
    (request,) = capture.state.requests
    assert request["gzip"] is True and request["historical_migration"] is True

    assert query(small_warehouse, "select count(*), count(distinct uuid) from sync.deliveries") == [(6, 6)]
    assert query(small_warehouse, "select status, http_status, attempts, events from sync.batches") == [("accepted", 200, 1, 6)]
    assert query(small_warehouse, "select load_id, events from sync.settled_loads") == [(1, 6)]

    again = cli("push", "--destination", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert again.exit_code == 0 and "nothing pending" in again.output
    assert len(capture.state.requests) == 1


@pytest.mark.parametrize(("batch_size", "requests"), [(1, 6), (4, 2), (6, 1), (1000, 1)])
def test_batch_sizes_leave_no_leftovers(small_warehouse, capture, cli, batch_size, requests):
    result = cli("push", "-d", "posthog", "--only", "events", "--batch-size", str(batch_size), "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert len(capture.state.requests) == requests
    assert sorted(e["uuid"] for e in capture.state.events) == sorted(e["uuid"] for e in mart_events(small_warehouse))


def test_5xx_and_connection_reset_are_retried(small_warehouse, capture, cli):
    capture.state.script(503, "reset", 502)
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in capture.state.requests] == [503, "reset", 502, 200]
    assert query(small_warehouse, "select attempts, status from sync.batches") == [(4, "accepted")]
    assert len(capture.state.events) == 6
    retries = [line for line in result.output.splitlines() if line.startswith("retrying: ")]
    assert [line.split(" gave ")[1].split(";")[0] for line in retries] == [
        "HTTP 503 on attempt 1", "connection reset on attempt 2", "HTTP 502 on attempt 3"
    ]
    assert all(" next try in " in line and line.endswith(" s") for line in retries)


def test_429_retry_after_is_honoured(small_warehouse, capture, cli):
    capture.state.script(Fault(429, {"Retry-After": "1"}))
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    first, second = capture.state.requests
    assert (first["status"], second["status"]) == (429, 200)
    assert second["at"] - first["at"] >= 0.95


def test_wrong_key_stops_at_once_naming_the_variable_not_the_value(small_warehouse, capture, cli):
    wrong = "phc_wrong_secret_value"
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture, key=wrong))
    assert result.exit_code == 1
    assert "$POSTHOG_API_KEY" in result.output and "401" in result.output
    assert wrong not in result.output and API_KEY not in result.output
    assert len(capture.state.requests) == 1
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(0,)]
    assert query(small_warehouse, "select outcome from sync.runs") == [("failed",)]


def test_unreachable_host_gives_up_cleanly(small_warehouse, cli):
    env = {"POSTHOG_HOST": "http://127.0.0.1:9", "POSTHOG_API_KEY": API_KEY}
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", "--max-retry-seconds", "1", env=env)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "connection refused" in lines[0] and "rerun `sync push` to resume" in lines[0]
    assert "Traceback" not in result.output
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(0,)]


def test_outage_mid_run_then_resume_sends_only_the_rest(small_warehouse, capture, cli):
    capture.state.outage_after = 2
    first = cli("push", "-d", "posthog", "--only", "events", "--batch-size", "2", "--concurrency", "1", "--max-retry-seconds", "0.5",
                "--no-progress", env=push_env(capture))
    assert first.exit_code == 1 and "gave up" in first.output
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(4,)]
    assert query(small_warehouse, "select count(*) from sync.settled_loads") == [(0,)]

    status = json.loads(cli("status", "--json").output)["destinations"][0]
    assert (status["pending"], status["delivered"], status["last_run"]["outcome"]) == (2, 4, "failed")

    capture.state.outage_after = None
    second = cli("push", "-d", "posthog", "--only", "events", "--batch-size", "2", "--no-progress", env=push_env(capture))
    assert second.exit_code == 0, second.output
    assert "2 events delivered" in second.output
    received = [e["uuid"] for e in capture.state.events]
    assert len(received) == len(set(received)) == 6


def test_full_refresh_resends_nothing_and_late_older_events_are_sent(small_warehouse, capture, cli, dbt, tmp_path):
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    dbt("build", "--full-refresh")
    assert "nothing pending" in cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).output

    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"event":"Old","properties":{"time":1300000000,"distinct_id":"zed","$insert_id":"late-1"}}\n'
        '{"event":"$mp_web_page_view","properties":{"time":1602611311,"distinct_id":"alice","$insert_id":"ins-001"}}\n',
        encoding="utf-8",
    )
    assert cli("load", "mixpanel", str(late)).exit_code == 0
    dbt("build")
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0 and "1 events delivered" in result.output
    assert capture.state.events[-1]["uuid"] == str(uuid.uuid5(uuid.UUID(bytes=b"posthog_mixpanel"), "late-1"))
    assert capture.state.events[-1]["timestamp"] == "2011-03-13T07:06:40.000000Z"
    assert len({e["uuid"] for e in capture.state.events}) == len(capture.state.events) == 7


def test_refused_event_is_isolated_and_the_rest_delivered(small_warehouse, capture, cli):
    poison = str(uuid.uuid5(uuid.UUID(bytes=b"posthog_mixpanel"), "ins-003"))
    capture.state.refuse_uuids.add(poison)
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1
    assert "5 events delivered" in result.output and "1 failed" in result.output
    # split out of DuckDB's joined body, the Unicode events arrive exactly as the mart has them
    by_uuid = lambda events: sorted(events, key=lambda e: e["uuid"])  # noqa: E731
    assert by_uuid(capture.state.events) == by_uuid(e for e in mart_events(small_warehouse) if e["uuid"] != poison)
    failed = query(small_warehouse, "select uuid, http_status, reason, message from sync.failed_events")
    assert [(u, h, r) for u, h, r, _ in failed] == [(poison, 400, "refused")]
    assert "refused" in failed[0][3]
    # a rerun does not resend the refused event or anything delivered
    before = len(capture.state.requests)
    assert "nothing pending" in cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).output
    assert len(capture.state.requests) == before


def test_the_key_is_never_stored_in_the_warehouse(small_warehouse, capture, cli):
    capture.state.script(503)
    cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    con = duckdb.connect(str(small_warehouse), read_only=True)
    try:
        for (table,) in con.execute("select table_name from information_schema.tables where table_schema = 'sync'").fetchall():
            dump = json.dumps(con.execute(f"select * from sync.{table}").fetchall(), default=str)
            assert API_KEY not in dump, table
    finally:
        con.close()


def test_push_before_dbt_build_says_what_to_do(warehouse, capture, cli):
    assert cli("load", "mixpanel", str(FIXTURES / "mixpanel_small.jsonl")).exit_code == 0
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
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
    result = cli("push", "-d", "posthog", "--only", "events", env=env)
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
        [sys.executable, "-m", "sync", "push", "-d", "posthog", "--only", "events", "--batch-size", "1", "--concurrency", "1", "--no-progress"],
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
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    received = [e["uuid"] for e in capture.state.events]
    assert len(received) == len(set(received)) == 6


def add_events(warehouse, n: int, load_id: int = 2) -> None:
    """Append n synthetic events (same shape as the mart) to the events table."""
    con = duckdb.connect(str(warehouse))
    con.execute(
        """
        insert into main.events
        select
            cast(uuid() as varchar), 'Synthetic', 'user-' || (i % 7), i % 2 = 0,
            strftime(timestamp '2021-06-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%S.%fZ'),
            cast(json_object('i', i, 'source_system', 'mixpanel') as json), null, null, '{"historical_migration":true}',
            timestamp '2021-06-01' + to_seconds(i), 'mixpanel', null, 'Synthetic', ?, i, null
        from range(?) as t(i)
        """,
        [load_id, n],
    )
    con.close()


def test_one_refused_event_among_a_thousand_only_that_event_fails(small_warehouse, capture, cli):
    add_events(small_warehouse, 994)
    (poison,) = query(small_warehouse, "select uuid from events where event = 'Synthetic' and line_number = 500")[0]
    capture.state.refuse_uuids.add(poison)
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1 and "999 events delivered" in result.output
    received = {e["uuid"] for e in capture.state.events}
    assert len(received) == len(capture.state.events) == 999 and poison not in received
    assert query(small_warehouse, "select uuid, reason, http_status from sync.failed_events") == [(poison, "refused", 400)]
    # isolating one event in 1000 takes about 2 x log2(1000) requests, not 1000
    assert len(capture.state.requests) <= 25

    assert "failed: 1 refused (HTTP 400)" in cli("status").output
    # the analyst fixes the cause; --retry-failed sends it and nothing else
    capture.state.refuse_uuids.clear()
    retry = cli("push", "-d", "posthog", "--only", "events", "--retry-failed", "--no-progress", env=push_env(capture))
    assert retry.exit_code == 0 and "1 events delivered" in retry.output
    assert capture.state.events[-1]["uuid"] == poison and len(capture.state.events) == 1000
    status = json.loads(cli("status", "--json").output)["destinations"][0]
    assert status["failed"] == 0 and status["failed_reasons"] == []
    assert [run["retry_failed"] for run in status["runs"]] == [True, False]
    assert "[--retry-failed]" in cli("status").output


def test_an_event_over_the_size_limit_is_failed_without_being_sent(small_warehouse, capture, cli):
    con = duckdb.connect(str(small_warehouse))
    con.execute("update main.events set properties = json_object('blob', repeat('x', 1000000)) where event = 'Signed Up'")
    (big,) = con.execute("select uuid from main.events where event = 'Signed Up'").fetchone()
    con.close()
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1 and "5 events delivered" in result.output
    assert big not in {e["uuid"] for e in capture.state.events}
    assert query(small_warehouse, "select uuid, reason, http_status from sync.failed_events") == [(big, "event_too_large", None)]


def test_split_by_day_keeps_each_request_within_one_utc_day(small_warehouse, capture, cli):
    add_events(small_warehouse, 200_000 // 100)  # 2,000 events one second apart: 2021-06-01 only
    con = duckdb.connect(str(small_warehouse))
    con.execute("update main.events set event_at = event_at + interval 23 hour, timestamp = strftime(event_at + interval 23 hour, '%Y-%m-%dT%H:%M:%S.%fZ') where event = 'Synthetic'")
    con.close()
    result = cli("push", "-d", "posthog", "--only", "events", "--split-by-day", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    days_per_request = query(
        small_warehouse,
        "select count(distinct cast(e.event_at as date)) from sync.deliveries d join events e using (uuid) group by d.batch_id",
    )
    assert max(n for (n,) in days_per_request) == 1
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(2006,)]


def test_rate_limit_is_obeyed_across_concurrent_requests(small_warehouse, capture, cli):
    result = cli(
        "push", "-d", "posthog", "--only", "events", "--batch-size", "1", "--concurrency", "4", "--max-requests-per-minute", "240",
        "--no-progress", env=push_env(capture),
    )
    assert result.exit_code == 0, result.output
    times = [r["at"] for r in capture.state.requests]
    assert len(times) == 6
    # 240/min = 4/s: any 0.5 s window holds at most 2 + 1 starts, whatever the concurrency
    assert max(sum(1 for t in times if start <= t < start + 0.5) for start in times) <= 3


def test_sigkill_mid_run_then_resume_delivers_everything_with_only_in_flight_duplicates(small_warehouse, capture, cli):
    import os
    import signal
    import subprocess
    import sys
    import time

    add_events(small_warehouse, 194)
    capture.state.latency_seconds = 0.05
    concurrency, batch_size = 3, 5
    env = {**os.environ, **push_env(capture), "WAREHOUSE_PATH": str(small_warehouse)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync", "push", "-d", "posthog", "--only", "events", "--batch-size", str(batch_size),
         "--concurrency", str(concurrency), "--no-progress"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while len(capture.state.events) < 60 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # requests already on the wire are still answered by the server
    received_before = len(capture.state.events)
    recorded = query(small_warehouse, "select count(*) from sync.deliveries")[0][0]
    assert 0 < recorded <= received_before < 200
    # what the destination has but the ledger lacks can only be batches in flight or queued
    # for the ledger writer (its queue holds at most `concurrency` outcomes)
    assert received_before - recorded <= 2 * concurrency * batch_size

    capture.state.latency_seconds = 0
    resumed = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert resumed.exit_code == 0, resumed.output
    received = [e["uuid"] for e in capture.state.events]
    assert set(received) == {u for (u,) in query(small_warehouse, "select uuid from events")}
    assert len(received) - len(set(received)) == received_before - recorded
    assert query(small_warehouse, "select count(*), count(distinct uuid) from sync.deliveries") == [(200, 200)]


def test_dns_failure_gives_up_cleanly_with_state_intact(small_warehouse, cli):
    env = {"POSTHOG_HOST": "http://backfill-no-such-host.invalid", "POSTHOG_API_KEY": API_KEY}
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", "--max-retry-seconds", "1", env=env)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert errors == ["error: cannot resolve the host backfill-no-such-host.invalid: check --host (or the host variable); "
                      "nothing was marked delivered"]
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(0,)]
    assert json.loads(cli("status", "--json").output)["destinations"][0]["pending"] == 6


def test_events_that_appear_in_a_finished_load_are_pending_without_rescan(small_warehouse, capture, cli):
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    add_events(small_warehouse, 3, load_id=1)   # as if an exclusion was removed and dbt rebuilt
    pending = query(small_warehouse, "select sum(pending) from sync_reconciliation where destination = 'posthog'")
    assert pending == [(3,)]
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0 and "3 events delivered" in result.output
    assert len(capture.state.events) == 9 and len({e["uuid"] for e in capture.state.events}) == 9


def test_slow_last_batches_complete_normally_instead_of_being_cut_off(small_warehouse, capture, cli, monkeypatch):
    from sync.push import run as pushing

    monkeypatch.setattr(pushing, "DRAIN_SECONDS", 0.2)   # the grace period applies only when ending early
    capture.state.latency_seconds = 0.6
    result = cli("push", "-d", "posthog", "--only", "events", "--batch-size", "2", "--concurrency", "3", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "6 events delivered in 3 requests" in result.output
    assert query(small_warehouse, "select outcome from sync.runs") == [("completed",)]


def test_a_ledger_from_before_the_deliveries_view_keeps_its_deliveries(tmp_path, capture, cli, small_warehouse):
    """Older warehouses kept every column on each delivery row; opening one moves them under
    the view, and a push then sends nothing twice."""
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    before = query(small_warehouse, "select * from sync.deliveries order by uuid")
    con = duckdb.connect(str(small_warehouse))
    con.execute("drop view sync.deliveries")
    con.execute(
        "create table sync.deliveries (destination varchar not null, uuid varchar not null, run_id varchar not null,"
        " batch_id varchar not null, delivered_at timestamp not null)"
    )
    con.execute(
        "insert into sync.deliveries select b.destination, d.uuid, b.run_id, d.batch_id, b.answered_at"
        " from sync.delivered_uuids d join sync.batches b using (batch_id)"
    )
    con.execute("delete from sync.delivered_uuids")
    con.close()
    # read-only commands read the old table as it is
    status = cli("status", "--json")
    assert status.exit_code == 0, status.output
    posthog = [d for d in json.loads(status.output)["destinations"] if d["destination"] == "posthog"]
    assert (posthog[0]["pending"], posthog[0]["delivered"]) == (0, 6)
    dry = cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--rescan", "--dry-run-dir", str(tmp_path / "dry"), "--no-progress", env=push_env(capture))
    assert dry.exit_code == 0 and "0 events pending" in dry.output, dry.output
    capture.state.events.clear()
    result = cli("push", "-d", "posthog", "--only", "events", "--rescan", "--no-progress", env=push_env(capture))  # every load, row by row
    assert result.exit_code == 0, result.output
    assert "nothing pending" in result.output and capture.state.events == []
    assert query(small_warehouse, "select table_type from information_schema.tables where table_name = 'deliveries'") == [("VIEW",)]
    assert query(small_warehouse, "select * from sync.deliveries order by uuid") == before and len(before) == 6


def test_posthog_defaults_follow_its_import_guidance(small_warehouse, capture, cli):
    """One UTC day per batch and at most 3,000 events/s, said at the start; both can be changed."""
    con = duckdb.connect(str(small_warehouse))
    con.execute(
        """
        insert into main.events
        select cast(uuid() as varchar), 'Late', 'user-1', false,
               strftime(timestamp '2021-06-01 23:59:58' + to_seconds(i), '%Y-%m-%dT%H:%M:%S.%fZ'),
               cast('{}' as json), null, null, '{"historical_migration":true}', timestamp '2021-06-01 23:59:58' + to_seconds(i), 'mixpanel', null, 'Late', 2, i, null
        from range(4) as t(i)
        """
    )
    con.close()
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "pace: at most 3,000 events/s (PostHog's guidance for imports); change it with --max-events-per-second N (0: no cap)" in result.output
    assert sorted(request["events"] for request in capture.state.requests) == [2, 2, 6]


def test_split_by_day_and_the_pace_can_be_turned_off(small_warehouse, capture, cli):
    result = cli("push", "-d", "posthog", "--only", "events", "--no-split-by-day", "--max-events-per-second", "0", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0 and "pace:" not in result.output, result.output


def test_recent_and_future_events_are_held_back_from_posthog_unless_allowed(small_warehouse, tmp_path, capture, cli):
    """PostHog's historical import asks for events at least 48 h old: newer ones and future
    ones are neither sent nor failed, but held, and said so everywhere."""
    con = duckdb.connect(str(small_warehouse))
    con.execute(
        """
        insert into main.events
        select cast(uuid() as varchar), 'Recent', 'user-1', false,
               strftime(event_at, '%Y-%m-%dT%H:%M:%S.%fZ'), cast('{}' as json), null, null, '{"historical_migration":true}', event_at, 'mixpanel', null, 'Recent', 2, i, null
        from (select i, (now() at time zone 'UTC') + case i when 0 then - interval 1 hour else interval 30 day end as event_at
              from range(2) as t(i))
        """
    )
    con.close()
    status = json.loads(cli("status", "--json").output)["destinations"][0]
    assert (status["pending"], status["held"]) == (6, 2)
    assert "posthog: 6 pending, 0 delivered, 0 failed, 2 held back" in cli("status").output
    dry = cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--dry-run-dir", str(tmp_path / "dry"), "--no-progress", env=push_env(capture))
    assert "6 events pending" in dry.output and "2 events newer than 48 hours or dated in the future held back" in dry.output

    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "2 events newer than 48 hours or dated in the future held back (not sent, not failed)" in result.output
    assert len(capture.state.events) == 6 and all(event["event"] != "Recent" for event in capture.state.events)
    assert query(small_warehouse, "select count(*) from sync.failed_events") == [(0,)]
    assert query(small_warehouse, "select load_id from sync.settled_loads") == [(1,)]   # load 2 is not finished

    page = tmp_path / "report.html"
    assert cli("report", "--out", str(page)).exit_code == 0
    assert "Held back from posthog: 2 events newer than 48 hours or dated in the future" in page.read_text()

    allowed = cli("push", "-d", "posthog", "--only", "events", "--allow-recent", "--no-progress", env=push_env(capture))
    assert allowed.exit_code == 0 and "2 events delivered" in allowed.output, allowed.output
    assert json.loads(cli("status", "--json").output)["destinations"][0]["held"] == 0
