"""Amplitude: the Export API's zip of gzipped JSON-lines files (one record per event), landed
member by member, and fetched hour by hour or day by day (shared/REFERENCE.md: Amplitude export)."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from sync.errors import UsageError
from sync.sources.base import ExportAPI, ExportPlan, Source, Window, credential

HOSTS = {"us": "https://amplitude.com", "eu": "https://analytics.eu.amplitude.com"}
CHUNK = 1 << 20


def looks_like(record: dict) -> bool:
    return "event_type" in record and ("event_time" in record or "amplitude_id" in record or "device_id" in record)


def windows(first: datetime, last: datetime, hourly: bool) -> list[Window]:
    """Hours or days: `start` and `end` hours are both inclusive, so a day is T00..T23."""
    if first > last:
        raise UsageError(f"--from {first:%Y%m%dT%H} is after --to {last:%Y%m%dT%H}")
    found, at = [], first
    while at <= last:
        end = at if hourly else min(last, at.replace(hour=23))
        found.append(Window(f"{at:%Y%m%dT%H}", f"{end:%Y%m%dT%H}"))
        at = end + timedelta(hours=1)
    return found


def export_plan(first: datetime, last: datetime, host: str, hourly: bool = False) -> ExportPlan:
    """Hours `first`..`last` with $AMPLITUDE_API_KEY and $AMPLITUDE_SECRET_KEY."""
    return ExportPlan(
        windows(first, last, hourly),
        lambda w: (f"{host}/api/2/export", {"start": w.start, "end": w.end}),
        lambda w, page: f"amplitude-{w.start}-{w.end}.zip",
        (credential("AMPLITUDE_API_KEY"), credential("AMPLITUDE_SECRET_KEY")),
        "$AMPLITUDE_API_KEY/$AMPLITUDE_SECRET_KEY",
    )


def store_zip(response, path: Path) -> None:
    """Amplitude answers a zip: keep it byte for byte, checking it is a whole one."""
    with path.open("wb") as out:
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)
    if not zipfile.is_zipfile(path):
        raise EOFError("incomplete zip")


SOURCE = Source(
    name="amplitude",
    raw_table="amplitude_events",
    looks_like=looks_like,
    # 404: Amplitude has no data for the window
    export=ExportAPI(hosts=HOSTS, requests_per_hour=360, store=store_zip, empty_statuses=frozenset({404})),
)
