"""Destinations: how events become request bodies for one API."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol


class Destination(Protocol):
    name: str
    key_env: str
    url: str
    max_body_bytes: int       # limit on one request's JSON, before compression
    max_event_bytes: int      # limit on one event's JSON
    max_events: int           # limit on events per request
    default_batch_size: int   # events per request unless --batch-size says otherwise
    too_large_reason: str     # failed_events.reason for an event over max_event_bytes
    default_split_by_day: bool               # one UTC day per batch unless --no-split-by-day
    default_events_per_second: float | None  # the pace unless --max-events-per-second says otherwise
    holds_recent: timedelta | None           # events newer than this are held back unless --allow-recent
    payload_sql: str          # DuckDB expression over the `events` mart giving one event's JSON

    def persons_payload_sql(self, set_once: bool = True) -> str: ...  # the same over the `persons` mart

    def body(self, events: bytes) -> bytes: ...  # events: UTF-8 JSON objects joined by commas

    def preview_body(self, events: bytes) -> bytes: ...  # the body for --dry-run files, secrets masked

    def headers(self) -> dict[str, str]: ...

    def auth(self) -> tuple[str, str] | None: ...

    def envelope_bytes(self) -> int: ...
