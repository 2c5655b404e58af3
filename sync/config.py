"""Configuration, built once from flags and environment variables.

Secrets (API keys) come from the environment or a flag and live only in memory: `Secret`
hides its value from repr/str so it cannot reach a log line or a traceback by accident.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WAREHOUSE = "warehouse.duckdb"


class Secret:
    """A string that never shows itself when printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def warehouse_path(flag: str | None = None) -> Path:
    """The DuckDB file: --warehouse flag, else $WAREHOUSE_PATH, else ./warehouse.duckdb
    (the same default profiles.yml gives dbt)."""
    return Path(flag or os.environ.get("WAREHOUSE_PATH") or DEFAULT_WAREHOUSE)


@dataclass(frozen=True)
class PushOptions:
    batch_size: int | None = None      # None: the destination's default
    concurrency: int = 4
    max_retry_seconds: float = 600.0
    timeout_seconds: float = 30.0
    max_events_per_second: float | None = None
    max_requests_per_minute: float | None = None
    split_by_day: bool = False
    retry_failed: bool = False
    allow_recent: bool = False         # send events newer than the destination's historical minimum age
    rescan: bool = False               # look in every load, settled ones too (a check; pending is exact without it)
    stream: str = "events"             # which mart (sync.streams): events, persons, identities, groups
    set_once: bool = True              # PostHog persons: $set_once (default) or $set
