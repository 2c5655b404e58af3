"""Mixpanel user profiles: the Engage query API's records (`{"$distinct_id", "$properties"}`),
landed as they are, from a JSON array, JSON lines, or whole Engage answers (`{"results": [...],
"page", "session_id", ...}`), and fetched page by page as one snapshot a day
(shared/REFERENCE.md: Mixpanel profiles).

A snapshot is the window of the UTC day it is taken: its pages are landed as they arrive and
the day is checkpointed after the last one. Engage sessions expire, so a snapshot that did not
finish is fetched again from its first page; pages with the same bytes as before are not landed
twice (the loader's content hash), which is why each page is stored with deterministic bytes.
"""

from __future__ import annotations

import gzip
from datetime import date, datetime, timezone
from pathlib import Path

import orjson

from sync.errors import UnexpectedAnswer
from sync.sources.base import ExportAPI, ExportPlan, Page, Source, Window
from sync.sources.mixpanel import service_account

HOSTS = {"us": "https://mixpanel.com", "eu": "https://eu.mixpanel.com", "in": "https://in.mixpanel.com"}
PAGE_SIZE = 1000   # Engage's page size when an answer does not say


def looks_like(record: dict) -> bool:
    return "$distinct_id" in record and "$properties" in record


def export_plan(host: str, day: date | None = None) -> ExportPlan:
    """Today's (UTC) snapshot of every profile, with $MIXPANEL_SERVICE_ACCOUNT (user:secret) and
    $MIXPANEL_PROJECT_ID. The first request asks for page 0; each full page's answer asks for the next."""
    user, secret, project = service_account()
    day = day or datetime.now(timezone.utc).date()

    def request(window: Window) -> tuple[str, dict]:
        return f"{host}/api/query/engage", {"project_id": project}

    return ExportPlan(
        [Window(str(day), str(day))], request,
        lambda w, page: f"mixpanel-profiles-{project}-{w.start}-page{page:05d}.jsonl.gz",
        (user, secret), "$MIXPANEL_SERVICE_ACCOUNT", method="POST",
    )


def store_page(response, path: Path) -> Page:
    """Keep one Engage answer's `results` as gzipped JSON lines, one profile a line as Mixpanel
    sent it (compact JSON, no timestamp in the gzip header: the same page gives the same bytes).
    A full page (as many results as `page_size`) asks for the next one in the same session."""
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise EOFError("incomplete JSON answer") from None   # cut short: retried like a dropped download
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise UnexpectedAnswer("the answer has no `results` list")
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as out:
        for result in results:
            out.write(orjson.dumps(result) + b"\n")
    size = answer.get("page_size") if isinstance(answer.get("page_size"), int) else PAGE_SIZE
    if not results or len(results) < size:
        return Page(len(results))
    if not isinstance(answer.get("page"), int) or not answer.get("session_id"):
        raise UnexpectedAnswer("a full page without `page` and `session_id` to ask for the next one")
    return Page(len(results), {"session_id": answer["session_id"], "page": answer["page"] + 1})


SOURCE = Source(
    name="mixpanel-profiles",
    raw_table="mixpanel_profiles",
    looks_like=looks_like,
    export=ExportAPI(hosts=HOSTS, requests_per_hour=60, store=store_page),
    envelope="results",
)
