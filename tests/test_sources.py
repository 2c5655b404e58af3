"""Amplitude, Segment and GA4 exports, and any CSV via `sync load table`, through the real
loaders, the real `dbt build` and a real push: every valid event delivered once, every
other raw line accounted for."""

from __future__ import annotations

import json
from collections import Counter

from tests.support.helpers import REPO, push_env, query
from tests.support.source_exports import EXPECTED, amplitude_zip, ga4_exports, segment_archive


def outcome_counts(warehouse, source: str) -> dict[str, int]:
    counts = {}
    for mart, key in [("events", "events"), ("events_rejected", "rejected"), ("events_excluded", "excluded"),
                      ("events_duplicates", "duplicates")]:
        counts[key] = query(warehouse, f"select count(*) from {mart} where source_system = ?", [source])[0][0]
    return counts


def test_mixed_sources_load_build_and_push_exactly_once(warehouse, tmp_path, cli, dbt, capture):
    zip_path = amplitude_zip(tmp_path)
    segment_dir = segment_archive(tmp_path)
    ndjson, parquet = ga4_exports(tmp_path)
    for source, paths in [("amplitude", [zip_path]), ("segment", [segment_dir]), ("ga4", [ndjson, parquet]),
                          ("mixpanel", [REPO / "tests" / "fixtures" / "mixpanel_small.jsonl"])]:
        result = cli("load", source, *map(str, paths))
        assert result.exit_code == 0, result.output
    # the zip's two hourly files land as two loads; loading it again lands nothing
    again = cli("load", "amplitude", str(zip_path))
    assert "0 files landed, 2 skipped" in again.output

    dbt("build")
    for source, expected in EXPECTED.items():
        assert outcome_counts(warehouse, source) == expected, source
        raw = query(warehouse, f"select count(*) from raw.{source}_events")[0][0]
        bad = query(warehouse, "select count(*) from raw.load_errors where source_system = ?", [source])[0][0]
        assert raw + bad == sum(expected.values())

    reasons = query(warehouse, "select source_system, rejection_reason, count(*) from events_rejected group by all order by all")
    assert ("segment", "unsupported_message_type", 1) in reasons and ("amplitude", "malformed_line", 1) in reasons
    assert query(warehouse, "select source_system, exclusion_reason, count(*) from events_excluded group by all order by all") == [
        ("amplitude", "excluded_event_name", 2), ("segment", "group_message", 1), ("segment", "identify_message", 1),
    ]

    result = cli("push", "--destination", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    received = capture.state.events
    mart = dict(query(warehouse, "select uuid, source_system from events"))
    assert Counter(e["uuid"] for e in received) == Counter(mart.keys())  # each event once, nothing else
    assert Counter(e["properties"]["source_system"] for e in received) == Counter(mart.values())
    assert set(mart.values()) == {"mixpanel", "amplitude", "segment", "ga4"}

    by_id = {(e["properties"]["source_system"], e["properties"].get("source_event_id")): e for e in received}
    # Amplitude: page view renamed, device id as distinct_id, $ip/$device_id added, precision kept
    page = next(e for e in received if e["properties"]["source_system"] == "amplitude" and e["event"] == "$pageview")
    assert page["distinct_id"] == "dev-2" and page["properties"]["$ip"] == "203.0.113.9"
    assert page["timestamp"] == "2023-03-02T10:00:00.123456Z" and page["uuid"] == "5b1c7d7e-0000-4000-8000-000000000002"
    assert by_id[("amplitude", "5b1c7d7e-0000-4000-8000-000000000005")]["timestamp"] == "2023-03-05T11:00:00.000000Z"
    # Segment: page → $pageview with $current_url; screen time converted to UTC; archive fields not sent
    seg_page = by_id[("segment", "msg-2")]
    assert seg_page["event"] == "$pageview" and seg_page["distinct_id"] == "anon-2"
    assert seg_page["properties"]["$current_url"] == "https://shop.example/ü"
    assert by_id[("segment", "msg-6")]["timestamp"] == "2023-04-06T12:00:00.000000Z"
    assert by_id[("segment", "msg-9")]["timestamp"] == "2023-04-09T08:00:00.000000Z"
    assert not any(k in json.dumps(e) for e in received if e["properties"]["source_system"] == "segment"
                   for k in ("sentAt", "projectId", "receivedAt"))
    # GA4: params flattened with their types, page_location mapped to $current_url
    ga4 = [e for e in received if e["properties"]["source_system"] == "ga4"]
    login = next(e for e in ga4 if e["event"] == "login")
    assert login["properties"]["ga_session_id"] == 1682935006 and login["properties"]["$current_url"].endswith("/p/6?q=ü")
    assert next(e for e in ga4 if e["event"] == "purchase")["distinct_id"] == "user-2"
    assert sum(e["event"] == "$pageview" for e in ga4) == 2


def test_load_table_lands_any_csv_and_keeps_bad_lines(warehouse, tmp_path, cli):
    csv = tmp_path / "shop.csv"
    csv.write_text(
        "occurred_at,customer,action,amount\n"
        "2024-01-02 03:04:05,c-1,checkout,12.50\n"
        "2024-01-02 03:05:00,c-2,\"view, item\",\n"
        "2024-01-02 03:06:00,c-3,checkout,12.50,unexpected\n"
        "2024-01-02 03:07:00,c-ü,refund,-3\n",
        encoding="utf-8",
    )
    result = cli("load", "table", "shop_events", str(csv))
    assert result.exit_code == 0, result.output
    assert "3 records, 1 bad line" in result.output
    rows = query(warehouse, "select line_number, record->>'customer', record->>'action' from raw.shop_events order by 1")
    assert rows == [(1, "c-1", "checkout"), (2, "c-2", "view, item"), (3, "c-ü", "refund")]
    (error,) = query(warehouse, "select source_system, line_number, line, error from raw.load_errors")
    assert error[:3] == ("shop_events", 4, "2024-01-02 03:06:00,c-3,checkout,12.50,unexpected")
    assert error[3].startswith("CSV ")
    assert "skipped" in cli("load", "table", "shop_events", str(csv)).output
    for bad in ("Drop Table", "order", "mixpanel_events"):
        bad_name = cli("load", "table", bad, str(csv))
        assert bad_name.exit_code == 2 and "table name" in bad_name.output, bad


def test_the_shipped_csv_example_builds_through_its_template_model(warehouse, cli, dbt):
    result = cli("load", "table", "shop_events", str(REPO / "examples" / "shop_events.csv"))
    assert result.exit_code == 0 and "7 records, 1 bad line" in result.output
    dbt("build")
    assert outcome_counts(warehouse, "shop_events") == {"events": 4, "rejected": 3, "excluded": 0, "duplicates": 1}
    # zone-less Berlin wall time (UTC+1 in January) arrives as UTC
    assert query(warehouse, "select timestamp from events where source_event_id = 'ord-1002'") == [("2024-01-06T17:00:00.000000Z",)]


def test_load_table_takes_jsonl_and_parquet_too(warehouse, tmp_path, cli):
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text('{"ts": 1700000000, "who": "ü"}\nnot json\n{"ts": 1700000001, "who": "b"}\n', encoding="utf-8")
    parquet = tmp_path / "log.parquet"
    import duckdb

    con = duckdb.connect()
    con.execute(f"copy (select 1700000002 as ts, 'c' as who, [1, 2] as tags) to '{parquet}' (format parquet)")
    con.close()
    result = cli("load", "table", "app_log", str(jsonl), str(parquet))
    assert result.exit_code == 0, result.output
    assert "2 files landed" in result.output and "3 records, 1 bad line" in result.output
    rows = query(warehouse, "select line_number, record->>'who', record->'tags' from raw.app_log order by record->>'ts'")
    assert [(n, who) for n, who, _ in rows] == [(1, "ü"), (3, "b"), (1, "c")]
    assert json.loads(rows[2][2]) == [1, 2]


def test_a_csv_line_with_several_faults_is_one_bad_line_with_all_its_reasons(warehouse, tmp_path, cli):
    csv = tmp_path / "shop.csv"
    good = [f"2024-01-02 03:0{i}:00,c-{i},checkout,1" for i in range(8)]
    csv.write_text("occurred_at,customer,action,amount\n" + "\n".join(good[:4] + ["2024-01-02,c-x,view,1,2,3"] + good[4:]) + "\n")
    result = cli("load", "table", "shop_events", str(csv))
    assert result.exit_code == 0, result.output
    assert "8 records, 1 bad line (load 1)" in result.output
    (error,) = query(warehouse, "select line_number, line, error from raw.load_errors")
    assert error[:2] == (6, "2024-01-02,c-x,view,1,2,3")
    assert error[2].count("TOO MANY COLUMNS") == 2 and "; " in error[2]
    assert query(warehouse, "select records, bad_lines from raw.loads") == [(8, 1)]
