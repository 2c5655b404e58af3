"""Audit: the ledger as dbt sources, sync_reconciliation and sync_runs_summary agree with the ledger."""

from __future__ import annotations

import duckdb

from conftest import push_env, query


def test_reconciliation_answers_did_every_event_reach_posthog(small_warehouse, capture, cli):
    con = duckdb.connect(str(small_warehouse))
    (refused,) = con.execute("select uuid from main.events order by event_at limit 1").fetchone()
    con.close()
    capture.state.refuse_uuids.add(refused)
    assert cli("push", "-d", "posthog", "--no-progress", env=push_env(capture)).exit_code == 1

    # "did every Mixpanel event reach PostHog, and if not, which and why?" in one query
    days = query(small_warehouse, """
        select event_date, raw_records, events, rejected, duplicates, delivered, failed, pending, reconciles
        from sync_reconciliation where source_system = 'mixpanel' and destination = 'posthog'
        order by event_date nulls last""")
    assert all(day[-1] for day in days)
    totals = [sum(day[i] for day in days) for i in range(1, 8)]
    raw = query(small_warehouse, "select count(*) from raw.mixpanel_events")[0][0] + \
        query(small_warehouse, "select count(*) from raw.load_errors")[0][0]
    delivered = query(small_warehouse, "select count(*) from sync.deliveries where destination = 'posthog'")[0][0]
    assert totals == [raw, 6, 7, 2, delivered, 1, 0]
    assert delivered == 5 == len(capture.state.events)
    why = query(small_warehouse, """
        select f.uuid, f.http_status, f.message from sync.failed_events f
        join events e using (uuid) where e.source_system = 'mixpanel'""")
    assert [(u, s) for u, s, _ in why] == [(refused, 400)] and "refused" in why[0][2]

    runs = query(small_warehouse, "select destination, outcome, events_delivered, events_failed, requests, requests_refused from sync_runs_summary")
    assert runs[0][:4] == ("posthog", "completed_with_failures", 5, 1) and runs[0][5] >= 1
