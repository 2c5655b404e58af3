"""Small but realistic exports of each source, written on demand, with what dbt must make
of them: duplicates across files, missing ids, bad times, Unicode, excluded records and
malformed lines. `EXPECTED[source]` holds the counts every raw line must add up to."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import duckdb

EXPECTED = {
    # events, rejected (malformed lines included), excluded, collapsed duplicates
    "amplitude": {"events": 4, "rejected": 3, "excluded": 2, "duplicates": 1},
    "segment": {"events": 4, "rejected": 4, "excluded": 2, "duplicates": 1},
    "ga4": {"events": 4, "rejected": 2, "excluded": 0, "duplicates": 2},
}


def _lines(records: list) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n" for r in records)


def amplitude_zip(directory: Path) -> Path:
    """Amplitude's export: a zip of gzipped JSON-lines files, one per hour."""
    def event(n: int, **fields) -> dict:
        base = {
            "uuid": f"5b1c7d7e-0000-4000-8000-00000000000{n}", "event_type": "Song Played", "user_id": f"user-{n}",
            "device_id": f"dev-{n}", "event_time": f"2023-03-0{n} 10:00:00.123456", "ip_address": "203.0.113.9",
            "event_properties": {"title": "Für Elise ♪", "n": n}, "user_properties": {"plan": "pro"},
        }
        return {**base, **fields}

    hour_10 = [
        event(1),
        event(2, event_type="[Amplitude] Page Viewed", user_id=None),          # device_id identifies
        event(3, event_type="session_start"),                                  # excluded
        event(4, user_id="", device_id=""),                                    # rejected: no id
    ]
    hour_11 = [
        event(1),                                                              # same uuid, other file: collapses
        event(5, event_time="garbage", client_event_time="2023-03-05 11:00:00"),  # falls back to client time
        event(6, event_time=None, client_event_time=None, server_received_time=None),  # rejected: no time
        event(7, event_type="session_end"),                                    # excluded
        b'{"uuid": "truncated',                                                # malformed line
        event(8, event_type="Search", event_properties={"q": "日本語 🎧"}),
    ]
    path = directory / "amplitude-export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("123/123_2023-03-01_10#0.json.gz", gzip.compress(_lines(hour_10), mtime=0))
        archive.writestr("123/123_2023-03-01_11#0.json.gz", gzip.compress(_lines(hour_11), mtime=0))
    return path


def segment_archive(directory: Path) -> Path:
    """An S3 archive day: segment-logs/<source>/<day>/*.gz of JSON-lines messages."""
    def message(n: int, **fields) -> dict:
        base = {
            "type": "track", "event": "Order Completed", "userId": f"user-{n}", "anonymousId": f"anon-{n}",
            "messageId": f"msg-{n}", "timestamp": f"2023-04-0{n}T12:00:00.000Z", "sentAt": "2023-04-09T00:00:00Z",
            "receivedAt": "2023-04-09T00:00:01Z", "projectId": "proj-1", "properties": {"total": n * 10.5, "city": "Kraków"},
        }
        return {**base, **fields}

    records = [
        message(1),
        message(2, type="page", event=None, userId=None, properties={"url": "https://shop.example/ü", "title": "Ünï"}),
        message(3, type="identify", event=None, traits={"email": "ana@example.com", "name": "Ana Łucja"}),
        message(1, receivedAt="2023-04-09T00:05:00Z"),                          # resent copy: collapses
        message(4, userId=None, anonymousId=None),                              # rejected: no id
        message(5, timestamp="not-a-time", originalTimestamp=None, receivedAt=None),  # rejected: no time
        message(6, type="screen", event=None, name="Cart", timestamp="2023-04-06T14:00:00+02:00"),
        message(7, type="group", event=None, groupId="g-1"),                    # excluded
        message(8, type="weird"),                                               # rejected: unsupported type
        b"{not json",                                                           # malformed line
        message(9, event="Refund Issued", timestamp=None, originalTimestamp="2023-04-09T08:00:00Z"),
    ]
    day = directory / "segment-logs" / "src-1" / "1680998400000"
    day.mkdir(parents=True)
    path = day / "part-0001.gz"
    path.write_bytes(gzip.compress(_lines(records), mtime=0))
    return directory / "segment-logs"


def ga4_exports(directory: Path) -> tuple[Path, Path]:
    """A day of GA4's BigQuery export as NDJSON, and another as Parquet."""
    def row(n: int, **fields) -> dict:
        base = {
            "event_date": "20230501", "event_timestamp": str(1682935200000000 + n * 1_000_001), "event_name": "page_view",
            "user_id": None, "user_pseudo_id": f"pseudo-{n}",
            "event_params": [
                {"key": "page_location", "value": {"string_value": f"https://example.com/p/{n}?q=ü"}},
                {"key": "ga_session_id", "value": {"int_value": str(1682935000 + n)}},
                {"key": "engagement_time_msec", "value": {"int_value": str(n * 100)}},
            ],
        }
        return {**base, **fields}

    ndjson = directory / "events_20230501.json"
    ndjson.write_bytes(_lines([
        row(1),
        row(1),                                             # exact duplicate: collapses
        row(2, event_name="purchase", user_id="user-2"),
        row(3, user_pseudo_id=None),                        # rejected: no id
        row(4, event_timestamp="yesterday"),                # rejected: bad time
    ]))
    parquet = directory / "events_20230502.parquet"
    con = duckdb.connect()
    rows = [row(5), row(6, event_name="login"), row(6, event_name="login")]   # one exact duplicate
    con.execute(
        """
        create table t as select
            r->>'event_date' as event_date,
            cast(r->>'event_timestamp' as bigint) as event_timestamp,
            r->>'event_name' as event_name,
            r->>'user_id' as user_id,
            r->>'user_pseudo_id' as user_pseudo_id,
            from_json(r->'event_params', '[{"key": "VARCHAR", "value": {"string_value": "VARCHAR", "int_value": "BIGINT", "float_value": "DOUBLE", "double_value": "DOUBLE"}}]') as event_params
        from (select unnest(?::json[]) as r)
        """,
        [[json.dumps(r) for r in rows]],
    )
    con.execute(f"copy t to '{parquet}' (format parquet)")
    con.close()
    return ndjson, parquet
