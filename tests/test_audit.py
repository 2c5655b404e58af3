"""Audit: the ledger as dbt sources, sync_reconciliation and sync_runs_summary agree with the ledger."""

from __future__ import annotations

import json

import duckdb

from tests.support.helpers import API_KEY, push_env, query


def test_reconciliation_answers_did_every_event_reach_posthog(small_warehouse, capture, cli):
    con = duckdb.connect(str(small_warehouse))
    (refused,) = con.execute("select uuid from main.events order by event_at limit 1").fetchone()
    con.close()
    capture.state.refuse_uuids.add(refused)
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 1

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


def test_dry_run_reads_what_a_push_would_send_and_changes_nothing(small_warehouse, capture, cli, tmp_path):
    folder = tmp_path / "dry"
    result = cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--dry-run-dir", str(folder), "--batch-size", "4",
                 "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "6 events pending would go in 2 requests" in result.output and "no problems found" in result.output
    bodies = [json.loads(p.read_text()) for p in sorted(folder.glob("request-*.json"))]
    assert [len(b["batch"]) for b in bodies] == [4, 2] and bodies[0]["api_key"] == "***"
    assert API_KEY not in "".join(p.read_text() for p in folder.iterdir())
    mart = [e for b in bodies for e in b["batch"]]
    assert [e["uuid"] for e in mart] == [u for (u,) in query(small_warehouse, "select uuid from events order by event_at, uuid")]
    assert capture.state.requests == []
    assert query(small_warehouse, "select (select count(*) from sync.runs), (select count(*) from sync.watermarks)") == [(0, 0)]

    # problems are found before anything is sent: too recent for PostHog's historical flow, too large
    con = duckdb.connect(str(small_warehouse))
    con.execute("update main.events set event_at = now()::timestamp where event = 'Signed Up'")
    con.execute("update main.events set properties = json_object('blob', repeat('x', 1000000)) where event = 'Purchase'")
    con.close()
    result = cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--dry-run-dir", str(folder), "--no-progress", env=push_env(capture))
    assert result.exit_code == 1
    assert "1 event newer than 48 hours or dated in the future held back" in result.output   # held, not sent
    assert "1 events event_too_large" in result.output
    allowed = cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--allow-recent", "--dry-run-dir", str(folder), "--no-progress",
                  env=push_env(capture))
    assert "1 events newer_than_48_hours" in allowed.output   # sent if allowed: the dry run says so
    assert capture.state.requests == []


def test_syncs_are_dbt_exposures_so_docs_show_the_lineage(warehouse, dbt, dbt_dirs):
    dbt("parse")
    from pathlib import Path

    manifest = json.loads((Path(dbt_dirs["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    exposures = {e["name"]: e["depends_on"]["nodes"] for e in manifest["exposures"].values()}
    assert exposures == {
        "posthog_events": ["model.backfill.events"], "segment_events": ["model.backfill.events"],
        "posthog_persons": ["model.backfill.persons"], "segment_persons": ["model.backfill.persons"],
        "posthog_identity_links": ["model.backfill.identity_links"], "segment_identity_links": ["model.backfill.identity_links"],
        "posthog_groups": ["model.backfill.groups"], "segment_groups": ["model.backfill.groups"],
    }
    ledger = {s["name"] for s in manifest["sources"].values() if s["source_name"] == "ledger"}
    assert ledger == {"runs", "batches", "deliveries", "failed_events", "undelivered_failures", "watermarks"}
