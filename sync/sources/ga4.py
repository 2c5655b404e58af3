"""GA4: BigQuery's `events_*` export, as NDJSON or Parquet, one row per event
(shared/REFERENCE.md: GA4)."""

from __future__ import annotations

from sync.sources.base import Source


def looks_like(record: dict) -> bool:
    return "event_name" in record and "event_timestamp" in record


SOURCE = Source(name="ga4", raw_table="ga4_events", looks_like=looks_like)
