"""What a destination is (the Protocol each module meets) and the settings the CLI gives it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Protocol

from sync.errors import UsageError


@dataclass(frozen=True)
class Settings:
    """What the command line said about the destination; each reads the environment for the rest."""

    host: str | None = None
    api_key: str | None = None
    write_key: str | None = None
    region: str | None = None
    integrations: str | None = None

    def given(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


def flag(setting: str) -> str:
    return "--" + setting.replace("_", "-")


class Destination(Protocol):
    name: str
    label: str                # as people write it: PostHog, Segment
    settings: tuple[str, ...]  # the Settings fields it reads
    key_env: str
    url: str
    max_body_bytes: int       # limit on one request's JSON, before compression
    max_event_bytes: int      # limit on one event's JSON
    max_events: int           # limit on events per request
    default_batch_size: int   # events per request unless --batch-size says otherwise
    too_large_reason: str     # failed_events.reason for an event over max_event_bytes
    default_split_by_day: bool               # one UTC day per batch unless --no-split-by-day
    default_events_per_second: float | None  # the pace unless --max-events-per-second says otherwise
    pace_guidance: str | None                # where that default comes from, for the push's first line
    holds_recent: timedelta | None           # events newer than this are held back unless --allow-recent
    holds_recent_why: str | None             # why, in the destination's words
    set_once: str | None      # how --set-once/--set apply to its persons (None: they do not)
    events_mart: str          # the dbt model its events are read from: `events`, or a view of it in its shape
    payload_sql: str          # DuckDB expression over that model giving one event's JSON

    @classmethod
    def from_settings(cls, settings: Settings) -> "Destination": ...

    def persons_payload_sql(self, set_once: bool = True) -> str: ...  # the same over the `persons` mart

    def identities_payload_sql(self) -> str: ...  # the same over the `identity_links` mart

    def groups_payload_sql(self) -> str: ...  # the same over the `groups` mart

    def body(self, events: bytes) -> bytes: ...  # events: UTF-8 JSON objects joined by commas

    def preview_body(self, events: bytes) -> bytes: ...  # the body for --dry-run files, secrets masked

    def headers(self) -> dict[str, str]: ...

    def auth(self) -> tuple[str, str] | None: ...

    def envelope_bytes(self) -> int: ...


def checked_host(host: str, label: str) -> str:
    if not host.startswith(("http://", "https://")):
        raise UsageError(f"{label} host must start with http:// or https:// (got {host!r})")
    return host


def checked_key(key: str | None, missing: str, what: str, can_have: str) -> str:
    if not key:
        raise UsageError(missing)
    if not key.isascii() or not key.isprintable():
        raise UsageError(f"{what} has characters {can_have} cannot have")
    return key
