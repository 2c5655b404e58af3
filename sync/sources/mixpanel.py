"""Mixpanel: the raw export API's JSON lines (`{"event", "properties"}`), landed as they are,
and fetched day by day from its export API (shared/REFERENCE.md: Mixpanel export)."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

from sync.config import Secret
from sync.errors import UsageError
from sync.sources.base import ExportAPI, ExportPlan, Source, Window, credential

HOSTS = {"us": "https://data.mixpanel.com", "eu": "https://data-eu.mixpanel.com", "in": "https://data-in.mixpanel.com"}
CHUNK = 1 << 20


def looks_like(record: dict) -> bool:
    return "event" in record and isinstance(record.get("properties"), dict) and "type" not in record and "messageId" not in record


def windows(first: date, last: date) -> list[Window]:
    """One window per day: `from_date` and `to_date` are both inclusive, so a day is asked once."""
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    return [Window(str(first + timedelta(days=n)), str(first + timedelta(days=n))) for n in range((last - first).days + 1)]


def export_plan(first: date, last: date, host: str, events: list[str] | None = None) -> ExportPlan:
    """Days `first`..`last` with $MIXPANEL_SERVICE_ACCOUNT (user:secret) and $MIXPANEL_PROJECT_ID."""
    days = windows(first, last)
    user, secret, project = service_account()
    names = json.dumps(events) if events else None

    def request(window: Window) -> tuple[str, dict]:
        params = {"from_date": window.start, "to_date": window.end, "project_id": project}
        if names:
            params["event"] = names
        return f"{host}/api/2.0/export", params

    return ExportPlan(
        days, request, lambda w, page: f"mixpanel-{project}-{w.start}.jsonl.gz", (user, secret), "$MIXPANEL_SERVICE_ACCOUNT",
    )


def service_account() -> tuple[Secret, Secret, str]:
    """$MIXPANEL_SERVICE_ACCOUNT (user:secret) as Basic auth user and password, and $MIXPANEL_PROJECT_ID."""
    account = credential("MIXPANEL_SERVICE_ACCOUNT", " (a service account as user:secret)")
    if ":" not in account.reveal():
        raise UsageError("$MIXPANEL_SERVICE_ACCOUNT must be user:secret")
    user, secret = account.reveal().split(":", 1)
    return Secret(user), Secret(secret), credential("MIXPANEL_PROJECT_ID").reveal()


def store_gzipped(response, path: Path) -> None:
    """Mixpanel answers JSON lines (gzip on the wire is undone by requests): keep them gzipped,
    with no timestamp in the gzip header, so the same answer gives the same file bytes (and the
    loader's content hash sees a re-fetched day as already landed)."""
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as out:
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)


SOURCE = Source(
    name="mixpanel",
    raw_table="mixpanel_events",
    looks_like=looks_like,
    export=ExportAPI(hosts=HOSTS, requests_per_hour=60, store=store_gzipped),
)
