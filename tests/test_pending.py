"""Pending is exact: the events of the mart that the destination has neither accepted nor
refused, whatever happened to the mart since the last push (an exclusion removed and a full
refresh, events added to a load that was finished), in `sync status`, the dry run, the
reconciliation view and the push itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.support.helpers import FIXTURES, dbt_in, project_copy, push_env, query

def status_of(cli) -> dict:
    return json.loads(cli("status", "--json").output)["destinations"][0]


def test_an_exclusion_removed_and_a_full_refresh_make_its_events_pending(tmp_path, warehouse, capture, cli):
    project = project_copy(tmp_path)
    exclusions = project / "seeds" / "event_exclusions.csv"
    original = exclusions.read_text()
    exclusions.write_text(original.rstrip("\n") + "\nmixpanel,Purchase\n")
    subprocess.run([sys.executable, "-m", "sync", "load", "mixpanel", str(FIXTURES / "mixpanel_small.jsonl")],
                   env={**os.environ, "WAREHOUSE_PATH": str(warehouse)}, check=True, capture_output=True)
    dbt_in(project, warehouse, "build")
    first = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert first.exit_code == 0, first.output
    sent_first = {event["uuid"] for event in capture.state.events}
    assert status_of(cli)["pending"] == 0

    exclusions.write_text(original)                         # the analyst takes the exclusion back
    dbt_in(project, warehouse, "build", "--full-refresh")
    purchases = {uuid for (uuid,) in query(warehouse, "select uuid from events where event = 'Purchase'")}
    assert purchases and not purchases & sent_first

    status = status_of(cli)
    assert status["pending"] == len(purchases)
    assert f"posthog: {len(purchases)} pending" in cli("status").output
    reconciled = query(warehouse, "select sum(pending) from sync_reconciliation where destination = 'posthog'")
    assert reconciled == [(len(purchases),)]
    dry = cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--dry-run-dir", str(tmp_path / "dry"), "--no-progress",
              env=push_env(capture))
    assert f"{len(purchases)} events pending" in dry.output, dry.output

    capture.state.events.clear()
    second = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert second.exit_code == 0, second.output
    assert {event["uuid"] for event in capture.state.events} == purchases
    again = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert "nothing pending" in again.output and status_of(cli)["pending"] == 0


def add_to_load(warehouse: Path, load_id: int, n: int) -> None:
    """Rows appended to a load's events, as another build would write them."""
    con = duckdb.connect(str(warehouse))
    con.execute(
        """
        insert into main.events
        select cast(uuid() as varchar), 'Late', 'user-' || i, false,
               strftime(timestamp '2021-06-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%S.%fZ'),
               cast(json_object('i', i) as json), null, null, '{"historical_migration":true}', timestamp '2021-06-01' + to_seconds(i), 'mixpanel', null, 'Late',
               $load, 1000 + i, 'another-build'
        from range($n) as t(i)
        """,
        {"load": load_id, "n": n},
    )
    con.close()


def test_rows_added_to_a_settled_load_are_pending_and_a_plain_push_sends_them(small_warehouse, capture, cli):
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    assert status_of(cli)["watermark"]["settled_loads"] == 1
    add_to_load(small_warehouse, 1, 3)
    status = status_of(cli)
    assert status["pending"] == 3 and status["watermark"]["settled_loads"] == 0
    capture.state.events.clear()
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0 and "3 events delivered" in result.output, result.output
    assert [event["event"] for event in capture.state.events] == ["Late"] * 3
    assert "nothing pending" in cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).output


def test_a_load_with_nothing_pending_is_settled_as_the_mart_held_it(small_warehouse, capture, cli):
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    ((load_id, build_id, events),) = query(small_warehouse, "select load_id, build_id, events from sync.settled_loads")
    assert (load_id, events) == (1, 6)
    assert query(small_warehouse, "select distinct build_id from events") == [(build_id,)]
