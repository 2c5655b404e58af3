"""The real `dbt build` on fixture exports: events, rejects, duplicates, reconciliation."""

from __future__ import annotations

import json
import uuid

import duckdb

from conftest import query
from sync.synthetic import write_mixpanel_export


def mixpanel_uuid(insert_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(bytes=b"posthog_mixpanel"), insert_id))


def test_small_export_becomes_events_rejects_and_duplicates(built_small):
    events = query(built_small, "select uuid, event, distinct_id, timestamp, properties from events order by event_at")
    by_uuid = {row[0]: row for row in events}
    assert len(events) == 6

    pageview = by_uuid[mixpanel_uuid("ins-001")]
    assert pageview[1:4] == ("$pageview", "alice", "2020-10-13T17:48:31.000000Z")
    assert json.loads(pageview[4]) == {
        "$browser": "Chrome",
        "$current_url": "https://example.com/été",
        "$geoip_city_name": "Zürich",
        "$geoip_subdivision_1_name": "ZH",
        "$geoip_country_code": "CH",
        "mp_lib": "web",
        "source_system": "mixpanel",
        "source_event_id": "ins-001",
    }
    purchase = by_uuid[mixpanel_uuid("ins-002")]
    assert purchase[3] == "2020-10-13T17:50:00.123000Z"
    assert json.loads(purchase[4]) == {
        "cart": {"items": [{"sku": "A-1", "qty": 2}], "coupon": None},
        "amount": 19.99,
        "note": "🎉 日本語 naïve",
        "source_system": "mixpanel",
        "source_event_id": "ins-002",
    }
    assert by_uuid[mixpanel_uuid("ins-003")][2] == "bob"
    app_open = by_uuid[mixpanel_uuid("ins-004")]
    assert app_open[2:4] == ("dev-c", "2020-10-13T17:53:20.250000Z")
    viewed = json.loads(by_uuid[mixpanel_uuid("ins-009")][4])
    assert viewed["tags"] == ["a", "b"] and viewed["empty"] is None and viewed["flag"] is False
    no_insert = [row for row in events if row[1] == "No Insert Id"]
    assert len(no_insert) == 1 and "source_event_id" not in json.loads(no_insert[0][4])

    rejected = query(built_small, "select line_number, rejection_reason from events_rejected order by line_number")
    assert rejected == [
        (6, "missing_distinct_id"),
        (7, "invalid_timestamp"),
        (8, "invalid_timestamp"),
        (9, "missing_event_name"),
        (10, "malformed_line"),
        (11, "malformed_line"),
        (12, "malformed_line"),
    ]
    duplicates = query(built_small, "select line_number, kept_line_number from events_duplicates order by 1")
    assert duplicates == [(3, 2), (14, 13)]


def test_realistic_export_matches_independent_python_expectations(warehouse, cli, dbt, tmp_path):
    manifest = write_mixpanel_export(tmp_path / "export", events=3000, files=3)
    assert cli("load", "mixpanel", str(tmp_path / "export")).exit_code == 0
    dbt("build")
    got = {row[0] for row in query(warehouse, "select uuid from events")}
    assert got == manifest.expected_uuids
    reasons = dict(query(warehouse, "select rejection_reason, count(*) from events_rejected group by 1"))
    assert reasons == {**manifest.rejected, "malformed_line": manifest.malformed_lines}
    assert query(warehouse, "select count(*) from events_duplicates") == [(manifest.duplicates,)]
    raw = query(warehouse, "select (select count(*) from raw.mixpanel_events) + (select count(*) from raw.load_errors)")
    assert raw == [(manifest.lines,)]
    assert manifest.lines == manifest.events + sum(reasons.values()) + manifest.duplicates


def test_reconciliation_test_fails_when_a_raw_line_is_unaccounted_for(small_warehouse, dbt):
    con = duckdb.connect(str(small_warehouse))
    con.execute("delete from main.events where event = 'Purchase'")
    con.close()
    result = dbt("test", "--select", "mixpanel_raw_records_reconcile", check=False)
    assert result.returncode != 0
    assert "mixpanel_raw_records_reconcile" in result.stdout and "FAIL 1" in result.stdout


def test_rebuild_is_stable_and_full_refresh_gives_same_uuids(small_warehouse, dbt):
    before = query(small_warehouse, "select uuid, event, distinct_id, timestamp, properties::varchar from events order by uuid")
    dbt("build")
    dbt("build", "--full-refresh")
    after = query(small_warehouse, "select uuid, event, distinct_id, timestamp, properties::varchar from events order by uuid")
    assert after == before
