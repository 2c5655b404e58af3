"""`sync push --destination segment` over real HTTP to a Segment-compatible endpoint."""

from __future__ import annotations

import json

import duckdb

from tests.support.helpers import mixed_warehouse, query, segment_env






def test_segment_gets_every_event_once_as_track_or_page_within_its_limits(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    result = cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture))
    assert result.exit_code == 0, result.output
    state = capture.state
    mart = {row[0]: row for row in query(warehouse, "select uuid, event, distinct_id, distinct_id_is_anonymous, timestamp from events")}
    assert sorted(m["messageId"] for m in state.events) == sorted(mart)  # each event once, messageId = uuid
    assert state.violations == [] and state.dropped == []
    for message in state.events:
        uuid, event, distinct_id, anonymous, timestamp = mart[message["messageId"]]
        assert message["timestamp"] == timestamp
        assert message[("anonymousId" if anonymous else "userId")] == distinct_id
        assert ("userId" in message) != ("anonymousId" in message)
        if event == "$pageview":
            assert message["type"] == "page" and "event" not in message
        elif event == "$screen":
            assert message["type"] == "screen" and "event" not in message
        else:
            assert message["type"] == "track" and message["event"] == event
        assert not {"sentAt", "projectId", "receivedAt"} & set(message)
        assert not [key for key in message["properties"] if key.startswith("$")], message   # Segment's spec, not PostHog's names
    # a Segment page view replayed from the archive: anonymous, with its url where Segment's spec has it
    (page,) = [m for m in state.events if m["type"] == "page" and m["properties"]["source_system"] == "segment"]
    assert page["anonymousId"] == "anon-2" and page["properties"]["url"] == "https://shop.example/ü"
    assert page["context"]["page"]["url"] == "https://shop.example/ü"
    # an Amplitude event's IP and device id go in context
    song = next(m for m in state.events if m["properties"]["source_system"] == "amplitude" and m.get("event") == "Song Played")
    assert song["context"]["ip"] == "203.0.113.9" and song["context"]["device"]["id"].startswith("dev-")
    assert all(r["integrations"] is None and r["content_type"] == "application/json" for r in state.requests)

    again = cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture))
    assert again.exit_code == 0 and "nothing pending" in again.output
    assert len(state.events) == len(mart)


def test_messageids_are_stable_across_a_rebuild_and_a_resend(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    assert cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture)).exit_code == 0
    first = sorted(json.dumps(m, sort_keys=True) for m in capture.state.events)
    dbt("build", "--full-refresh")
    con = duckdb.connect(str(warehouse))
    con.execute("delete from sync.delivered_uuids where batch_id in (select batch_id from sync.batches where destination = 'segment');"
                "delete from sync.watermarks where destination = 'segment'")
    con.close()
    capture.state.events.clear()
    assert cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture)).exit_code == 0
    assert sorted(json.dumps(m, sort_keys=True) for m in capture.state.events) == first  # byte-for-byte the same messages


def test_integrations_object_is_sent_with_every_batch(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    result = cli("push", "-d", "segment", "--only", "events", "--batch-size", "3", "--integrations", '{"All": false, "Mixpanel": true}',
                 "--no-progress", env=segment_env(capture))
    assert result.exit_code == 0, result.output
    assert len(capture.state.requests) >= 4
    assert all(r["integrations"] == {"All": False, "Mixpanel": True} for r in capture.state.requests)
    bad = cli("push", "-d", "segment", "--only", "events", "--integrations", "[1]", "--no-progress", env=segment_env(capture))
    assert bad.exit_code == 2 and "must be a JSON object" in bad.output


def test_requests_stay_under_500kb_and_2500_messages_and_big_messages_fail(small_warehouse, capture, cli):
    warehouse = small_warehouse
    con = duckdb.connect(str(warehouse))
    con.execute(
        """
        insert into main.events
        select cast(uuid() as varchar), 'Viewed', 'user-' || (i % 7), false,
            strftime(timestamp '2021-06-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%S.%fZ'),
            cast(json_object('i', i, 'pad', repeat('é', 100)) as json), null, null, '{}',
            timestamp '2021-06-01' + to_seconds(i), 'mixpanel', null, 'Viewed', 2, i, null
        from range(6000) as t(i)
        """
    )
    con.execute("update main.events set properties = json_object('blob', repeat('x', 40000)) where event = 'Signed Up'")
    (big,) = con.execute("select uuid from main.events where event = 'Signed Up'").fetchone()
    con.close()
    result = cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture))
    assert result.exit_code == 1, result.output
    assert "6005 events delivered" in result.output and "1 failed" in result.output
    assert capture.state.violations == []
    sizes = query(warehouse, "select body_bytes, events from sync.batches where destination = 'segment'")
    assert len(sizes) > 6000 * 250 // 500_000 and all(b <= 500_000 and n <= 2500 for b, n in sizes)
    assert query(warehouse, "select uuid, reason from sync.failed_events") == [(big, "message_too_large")]
    assert big not in {m["messageId"] for m in capture.state.events}


def test_wrong_write_key_stops_at_once_naming_the_variable(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    secret = "wk_wrong_do_not_print"
    result = cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture, secret))
    assert result.exit_code == 1 and "$SEGMENT_WRITE_KEY" in result.output and secret not in result.output
    assert [r["status"] for r in capture.state.requests] == [401]  # not retried
    assert query(warehouse, "select count(*) from sync.deliveries") == [(0,)]


def test_a_replayed_segment_archive_keeps_its_spec_fields(warehouse, tmp_path, cli, dbt, capture):
    """Archived Segment messages go back to Segment with their own context and properties, less
    sentAt, messageId and projectId (Segment's guide to importing historical data)."""
    context = {"ip": "198.51.100.7", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "library": {"name": "analytics.js"},
               "page": {"url": "https://shop.example/ü", "path": "/ü"}, "locale": "pl-PL"}
    archive = tmp_path / "archive.jsonl"
    archive.write_text(json.dumps({
        "type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "ajs-1", "projectId": "p-1",
        "sentAt": "2023-01-01T00:00:05Z", "timestamp": "2023-01-01T00:00:00Z", "context": context,
        "properties": {"total": 9.5, "currency": "PLN"},
    }, ensure_ascii=False) + "\n", encoding="utf-8")
    assert cli("load", "segment", str(archive)).exit_code == 0
    dbt("build")
    result = cli("push", "-d", "segment", "--only", "events", "--no-progress", env=segment_env(capture))
    assert result.exit_code == 0, result.output
    (message,) = capture.state.events
    assert message["context"] == context
    assert {k: message["properties"][k] for k in ("total", "currency")} == {"total": 9.5, "currency": "PLN"}
    assert not {"sentAt", "projectId"} & set(message) and message["messageId"] != "ajs-1"
    assert (message["type"], message["event"], message["userId"]) == ("track", "Order Completed", "u-1")
