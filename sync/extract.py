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

import gzip
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import requests

from sync import load as loading
from sync.config import Secret
from sync.errors import SyncError, UsageError
from sync.http import decide
from sync.ratelimit import Limits
from sync.warehouse import utcnow

MIXPANEL_HOSTS = {"us": "https://data.mixpanel.com", "eu": "https://data-eu.mixpanel.com", "in": "https://data-in.mixpanel.com"}
AMPLITUDE_HOSTS = {"us": "https://amplitude.com", "eu": "https://analytics.eu.amplitude.com"}
CHUNK = 1 << 20
RECENT = timedelta(hours=48)   # an empty window ending less than this ago is not checkpointed


class ExtractError(SyncError):
    """A terminal answer (bad credentials) or a window that kept failing: checkpoints so far stay."""


@dataclass(frozen=True)
class Window:
    start: str          # as the API takes it: 2024-01-31, or 20240131T00
    end: str

    @property
    def label(self) -> str:
        return self.start if self.start == self.end else f"{self.start}..{self.end}"


@dataclass(frozen=True)
class WindowResult:
    window: Window
    skipped: bool = False         # checkpointed before
    empty: bool = False           # the source had nothing for it
    records: int = 0
    bad_lines: int = 0
    path: Path | None = None


def mixpanel_windows(first: date, last: date) -> list[Window]:
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    return [Window(str(first + timedelta(days=n)), str(first + timedelta(days=n))) for n in range((last - first).days + 1)]


def amplitude_windows(first: datetime, last: datetime, hourly: bool) -> list[Window]:
    if first > last:
        raise UsageError(f"--from {first:%Y%m%dT%H} is after --to {last:%Y%m%dT%H}")
    windows, at = [], first
    while at <= last:
        end = at if hourly else min(last, at.replace(hour=23))
        windows.append(Window(f"{at:%Y%m%dT%H}", f"{end:%Y%m%dT%H}"))
        at = end + timedelta(hours=1)
    return windows


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


def credential(env: str, shape: str = "") -> Secret:
    value = os.environ.get(env)
    if not value:
        raise UsageError(f"${env} is not set{shape}")
    return Secret(value)


class Extractor:
    """Runs windows in order: skip checkpointed ones, fetch with retries, store, land, checkpoint."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        folder: Path,
        *,
        auth: tuple[Secret, Secret],
        key_envs: str,
        requests_per_hour: float,
        timeout: float = 300.0,
        max_retry_seconds: float = 600.0,
        force: bool = False,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.con = con
        self.source = source
        self.folder = folder
        self.auth = auth
        self.key_envs = key_envs
        self.limits = Limits(requests_per_minute=requests_per_hour / 60.0, sleep=sleep)
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.force = force
        self.sleep = sleep
        self.session = requests.Session()

    def run(
        self, windows: list[Window], fetch: Callable[[Window], tuple[str, dict]], filename: Callable[[Window], str],
        store: Callable[[requests.Response, Path], None],
    ) -> Iterator[WindowResult]:
        done = self._checkpointed()
        self.folder.mkdir(parents=True, exist_ok=True)
        for window in windows:
            if (window.start, window.end) in done and not self.force:
                yield WindowResult(window, skipped=True)
                continue
            url, params = fetch(window)
            path = self.folder / filename(window)
            empty = not self._download(url, params, path, store, window)
            if empty:
                # a source may not have processed the last hours yet: an empty recent window is
                # fetched again next time rather than checkpointed as empty for good
                if not self.recent(window):
                    self._checkpoint(window, None, None, 0, 0)
                yield WindowResult(window, empty=True)
                continue
            results = loading.load_path(self.con, self.source, path)
            records = sum(r.records for r in results)
            bad = sum(r.bad_lines for r in results)
            load_ids = [r.load_id or r.already_loaded_as for r in results]
            self._checkpoint(window, path, max(load_ids) if load_ids else None, records, bad)
            yield WindowResult(window, records=records, bad_lines=bad, path=path)

    def _download(self, url: str, params: dict, path: Path, store, window: Window) -> bool:
        """Fetch one window into `path` (atomically); False when the source has nothing for it."""
        started = time.monotonic()
        attempt = 0
        user, secret = self.auth
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
                    if status == 404 and self.source == "amplitude":
                        return False   # Amplitude: no data for this window
                    if 200 <= status < 300:
                        store(response, partial)
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
                    f"{self.source} answered {status} for {window.label}: the credentials in {self.key_envs} "
                    "were refused; windows extracted so far are checkpointed, rerun to resume"
                )
            if decision.action in ("reject", "stop"):
                raise ExtractError(
                    f"{self.source} answered {status} for {window.label}: {detail or 'no detail'}; "
                    "earlier windows are checkpointed"
                )
            if status == 429:
                self.limits.pause(decision.delay)
            elapsed = time.monotonic() - started
            if elapsed + decision.delay > self.max_retry_seconds:
                what = f"HTTP {status}" if status else detail
                raise ExtractError(
                    f"gave up on {self.source} window {window.label} after {attempt} attempts over {elapsed:.0f}s "
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
            "select window_start, window_end from sync.extract_checkpoints where source_system = ?", [self.source]
        ).fetchall()
        return {(start, end) for start, end in rows}

    def _checkpoint(self, window: Window, path: Path | None, load_id: int | None, records: int, bad: int) -> None:
        self.con.execute(
            """
            insert or replace into sync.extract_checkpoints
            values (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [self.source, window.start, window.end, str(path) if path else None, load_id, records, bad, utcnow()],
        )


def store_gzipped(response: requests.Response, path: Path) -> None:
    """Mixpanel answers JSON lines (gzip on the wire is undone by requests): keep them gzipped,
    with no timestamp in the gzip header, so the same answer gives the same file bytes (and the
    loader's content hash sees a re-fetched day as already landed)."""
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as out:
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)


def store_as_is(response: requests.Response, path: Path) -> None:
    """Amplitude answers a zip: keep it byte for byte, checking it is a whole one."""
    with path.open("wb") as out:
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)
    if not zipfile.is_zipfile(path):
        raise EOFError("incomplete zip")
