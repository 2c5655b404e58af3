"""`sync extract`: fetch raw exports from a source's API, one time window at a time, store
each window's response on disk (compressed) and land it exactly as `sync load` would.

A window is checkpointed in `sync.extract_checkpoints` only after it landed, so a killed
extract resumes at the first window without a checkpoint; rerunning skips checkpointed
windows (`--force` fetches them again, and the loader's content hash keeps raw rows from
doubling when the source answers the same bytes). Windows never overlap: Mixpanel's
`from_date`/`to_date` are both inclusive, so each request asks for exactly one day;
Amplitude's `start`/`end` hours are both inclusive, so a day is T00..T23.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import requests

from sync import load as loading
from sync.errors import SyncError, UsageError
from sync.sources import ExportPlan, Source, Window
from sync.http import decide
from sync.ratelimit import Limits
from sync.warehouse import utcnow

RECENT = timedelta(hours=48)   # an empty window ending less than this ago is not checkpointed


class ExtractError(SyncError):
    """A terminal answer (bad credentials) or a window that kept failing: checkpoints so far stay."""


@dataclass(frozen=True)
class WindowResult:
    window: Window
    skipped: bool = False         # checkpointed before
    empty: bool = False           # the source had nothing for it
    records: int = 0
    bad_lines: int = 0
    path: Path | None = None


def parse_day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} must be YYYY-MM-DD (got {text!r})") from None


def parse_hour(text: str, flag: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%dT%H")
    except ValueError:
        raise UsageError(f"{flag} must be YYYYMMDDTHH, e.g. 20240131T00 (got {text!r})") from None


class Extractor:
    """Runs windows in order: skip checkpointed ones, fetch with retries, store, land, checkpoint."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Source,
        folder: Path,
        *,
        requests_per_hour: float,
        timeout: float = 300.0,
        max_retry_seconds: float = 600.0,
        force: bool = False,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.con = con
        self.source = source
        self.folder = folder
        self.limits = Limits(requests_per_minute=requests_per_hour / 60.0, sleep=sleep)
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.force = force
        self.sleep = sleep
        self.session = requests.Session()

    def run(self, plan: ExportPlan) -> Iterator[WindowResult]:
        done = self._checkpointed()
        self.folder.mkdir(parents=True, exist_ok=True)
        for window in plan.windows:
            if (window.start, window.end) in done and not self.force:
                yield WindowResult(window, skipped=True)
                continue
            url, params = plan.request(window)
            path = self.folder / plan.filename(window)
            empty = not self._download(url, params, path, plan, window)
            if empty:
                # a source may not have processed the last hours yet: an empty recent window is
                # fetched again next time rather than checkpointed as empty for good
                if not self.recent(window):
                    self._checkpoint(window, None, None, 0, 0)
                yield WindowResult(window, empty=True)
                continue
            results = loading.load_path(self.con, self.source.name, path)
            records = sum(r.records for r in results)
            bad = sum(r.bad_lines for r in results)
            load_ids = [r.load_id or r.already_loaded_as for r in results]
            self._checkpoint(window, path, max(load_ids) if load_ids else None, records, bad)
            yield WindowResult(window, records=records, bad_lines=bad, path=path)

    def _download(self, url: str, params: dict, path: Path, plan: ExportPlan, window: Window) -> bool:
        """Fetch one window into `path` (atomically); False when the source has nothing for it."""
        started = time.monotonic()
        attempt = 0
        user, secret = plan.auth
        export = self.source.export
        while True:
            attempt += 1
            self.limits.wait(1)
            partial = path.with_name(path.name + ".partial")
            status, retry_after, detail = None, None, ""
            try:
                with self.session.get(
                    url, params=params, auth=(user.reveal(), secret.reveal()), stream=True, timeout=self.timeout
                ) as response:
                    status, retry_after = response.status_code, response.headers.get("Retry-After")
                    if status in export.empty_statuses:
                        return False   # the source has no data for this window
                    if 200 <= status < 300:
                        export.store(response, partial)
                        partial.replace(path)
                        return True
                    detail = response.text[:200].strip()
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
                raise ExtractError(f"cannot fetch from {url}: {exc}") from None
            except (requests.RequestException, OSError, EOFError) as exc:
                status, detail = None, type(exc).__name__   # e.g. a connection dropped mid-download
            finally:
                partial.unlink(missing_ok=True)
            decision = decide(status, retry_after, attempt)
            if decision.action == "stop" and decision.why == "key":
                raise ExtractError(
                    f"{self.source.name} answered {status} for {window.label}: the credentials in {plan.credentials} "
                    "were refused; windows extracted so far are checkpointed, rerun to resume"
                )
            if decision.action in ("reject", "stop"):
                raise ExtractError(
                    f"{self.source.name} answered {status} for {window.label}: {detail or 'no detail'}; "
                    "earlier windows are checkpointed"
                )
            if status == 429:
                self.limits.pause(decision.delay)
            elapsed = time.monotonic() - started
            if elapsed + decision.delay > self.max_retry_seconds:
                what = f"HTTP {status}" if status else detail
                raise ExtractError(
                    f"gave up on {self.source.name} window {window.label} after {attempt} attempts over {elapsed:.0f}s "
                    f"(last: {what}); earlier windows are checkpointed, rerun to resume"
                )
            self.sleep(decision.delay)

    @staticmethod
    def recent(window: Window) -> bool:
        """Does the window end less than RECENT ago? (A day ends at the next midnight, an hour
        at the next hour.)"""
        if "T" in window.end:
            end = datetime.strptime(window.end, "%Y%m%dT%H") + timedelta(hours=1)
        else:
            end = datetime.fromisoformat(window.end) + timedelta(days=1)
        return utcnow() - end < RECENT

    def _checkpointed(self) -> set[tuple[str, str]]:
        rows = self.con.execute(
            "select window_start, window_end from sync.extract_checkpoints where source_system = ?", [self.source.name]
        ).fetchall()
        return {(start, end) for start, end in rows}

    def _checkpoint(self, window: Window, path: Path | None, load_id: int | None, records: int, bad: int) -> None:
        self.con.execute(
            """
            insert or replace into sync.extract_checkpoints
            values (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [self.source.name, window.start, window.end, str(path) if path else None, load_id, records, bad, utcnow()],
        )
