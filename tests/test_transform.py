"""The real `dbt build` on fixture exports: events, rejects, duplicates, reconciliation."""

from __future__ import annotations

import json
import uuid

import duckdb

from tests.support.helpers import query
from tests.support.synthetic import write_mixpanel_export


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
        "$geoip_country_name": "Switzerland",   # from mp_country_code, as PostHog's importer names it
        "mp_lib": "web",
        "source_system": "mixpanel",
        "source_event_id": "ins-001",
    }
    # the person-level properties PostHog's importer also puts in $set
    (extra,) = query(built_small, "select posthog_properties::varchar from events where uuid = ?", [mixpanel_uuid("ins-001")])[0]
    extra = json.loads(extra)
    assert extra["$set"] == {"$browser": "Chrome", "$current_url": "https://example.com/été", "$geoip_city_name": "Zürich",
                             "$geoip_subdivision_1_name": "ZH", "$geoip_country_code": "CH", "$geoip_country_name": "Switzerland"}
    # PostHog's importer's markers: $geoip_disable keeps PostHog from geolocating history anew
    (import_job_id,) = query(built_small, "select import_job_id from stg_landing__loads where load_id = 1")[0]
    assert {k: extra[k] for k in ("historical_migration", "analytics_source", "$import_job_id", "$geoip_disable")} == {
        "historical_migration": True, "analytics_source": "mixpanel", "$import_job_id": import_job_id, "$geoip_disable": True}
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


MARTS = {
    # every column but build_id (the invocation that wrote the row), in a total order
    "events": "uuid, event, distinct_id, distinct_id_is_anonymous, timestamp, properties::varchar, event_at, "
              "source_system, source_event_id, source_event_name, load_id, line_number",
    "events_rejected": "source_system, load_id, line_number, file_path, rejection_reason, detail, uuid, "
                       "source_event_name, distinct_id, source_line",
    "events_duplicates": "source_system, load_id, line_number, file_path, uuid, event_at, copy_number, kept_load_id, "
                         "kept_line_number",
    "events_excluded": "source_system, load_id, line_number, file_path, exclusion_reason, uuid, source_event_name, "
                       "distinct_id, event_at",
    "persons": "uuid, distinct_id, distinct_id_is_anonymous, properties::varchar, timestamp, event_at, first_seen_at, "
               "last_seen_at, source_systems, load_id",
    "identity_links": "uuid, anonymous_id, known_id, link_type, distinct_id, timestamp, event_at, source_system, "
                      "first_seen_load_id, first_seen_line_number, records, load_id",
    "int_events__validated": "source_system, load_id, line_number, uuid, source_event_name, distinct_id, event_at, "
                             "source_properties::varchar, person_properties::varchar, source_record, exclusion_reason, "
                             "rejection_reason",
}


def _marts(warehouse) -> dict[str, list[tuple]]:
    return {name: query(warehouse, f"select {cols} from {name} order by all") for name, cols in MARTS.items()}


def test_builds_load_by_load_equal_one_full_refresh(warehouse, cli, dbt, tmp_path):
    """Five builds, each over new loads that share duplicates, exclusions and persons with
    earlier ones, give exactly the marts a --full-refresh of everything gives."""
    from tests.support.source_exports import amplitude_zip, ga4_exports, segment_archive

    mixpanel = write_mixpanel_export(tmp_path / "mixpanel", events=1500, files=3)
    first, second, third = mixpanel.files
    # a later export that repeats events of the first file (same $insert_id, or same content)
    repeated = tmp_path / "repeat" / "again.jsonl"
    repeated.parent.mkdir()
    repeated.write_bytes(b"".join(first.read_bytes().splitlines(keepends=True)[::7]))
    later_amplitude = tmp_path / "amplitude-later.jsonl"
    later_amplitude.write_text(json.dumps({
        "uuid": "5b1c7d7e-0000-4000-8000-000000000099", "event_type": "Song Played", "user_id": "user-1",
        "device_id": "dev-1", "event_time": "2023-06-01 10:00:00", "event_properties": {},
        "user_properties": {"plan": "team", "seats": 5},
    }) + "\n")
    ndjson, parquet = ga4_exports(tmp_path)

    steps = [
        [("mixpanel", first)],
        [("amplitude", amplitude_zip(tmp_path))],
        [("mixpanel", second), ("mixpanel", repeated)],
        [("segment", segment_archive(tmp_path)), ("ga4", ndjson)],
        [("amplitude", later_amplitude), ("mixpanel", third), ("ga4", parquet)],
    ]
    built_by = set()
    for step in steps:
        for source, path in step:
            assert cli("load", source, str(path)).exit_code == 0
        dbt("build")
        built_by |= {row[0] for row in query(warehouse, "select distinct build_id from events")}
    incremental = _marts(warehouse)
    assert len(built_by) == len(steps)            # each build added rows of its own
    assert incremental["events_duplicates"] and incremental["events_excluded"] and incremental["identity_links"]
    # a pair seen again in a later load is still one link, from its first sighting
    assert query(warehouse, "select count(*) from identity_links where records > 1 and load_id > first_seen_load_id")[0][0] > 0
    assert any(row[0] == 3 for row in query(warehouse, "select copy_number from events_duplicates"))
    # a copy in a later load of an event from an earlier load points at the kept copy
    assert query(warehouse, "select count(*) from events_duplicates where load_id > kept_load_id")[0][0] > 0
    assert dict(query(warehouse, "select distinct_id, properties::varchar from persons where distinct_id = 'user-1'")) == {
        "user-1": '{"plan":"team","seats":5}'
    }

    dbt("build", "--full-refresh")
    assert _marts(warehouse) == incremental
    assert query(warehouse, "select count(distinct build_id) from events") == [(1,)]


def test_a_build_with_nothing_new_writes_nothing(small_warehouse, dbt):
    before = query(small_warehouse, "select build_id, count(*) from events group by 1")
    dbt("build")
    assert query(small_warehouse, "select build_id, count(*) from events group by 1") == before
    assert query(small_warehouse, "select count(*) from dbt_build where build_id in (select build_id from events)") == [(0,)]


def test_unit_tests_and_audit_tests_pass(small_warehouse, dbt):
    """`dbt build` leaves the unit tests and the audit views' tests out (selectors.yml); here they run."""
    result = dbt("test", "--select", "test_type:unit", "tag:audit")
    assert "ERROR=0" in result.stdout and "SKIP=0" in result.stdout
    ran = int(result.stdout.split("PASS=")[1].split()[0])
    assert ran >= 19            # 16 unit tests and the audit views' 3
    default = dbt("build")
    assert "unit_test" not in default.stdout


def test_dbt_build_before_any_load_says_what_to_do(warehouse, dbt):
    result = dbt("build", check=False)
    assert result.returncode != 0
    assert f"the warehouse {warehouse} has no raw tables yet: land an export first (sync load SOURCE FILES...), then run dbt build" in result.stdout
    assert result.stdout.count("Catalog Error") == 0
