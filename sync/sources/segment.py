"""Segment: archived messages (track, page, screen, identify, group, alias), one JSON object
per line, as its S3/GCS destinations write them (shared/REFERENCE.md: Segment)."""

from __future__ import annotations

from sync.sources.base import Source

MESSAGE_TYPES = {"track", "page", "screen", "identify", "group", "alias"}


def looks_like(record: dict) -> bool:
    return record.get("type") in MESSAGE_TYPES and ("messageId" in record or "anonymousId" in record or "userId" in record)


SOURCE = Source(name="segment", raw_table="segment_events", looks_like=looks_like)
