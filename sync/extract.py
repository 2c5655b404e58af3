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

from sync import http, ledger
from sync import load as loading
from sync.errors import SyncError, UsageError
from sync.sources import ExportPlan, Source, Window
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
        self.timeout = timeout
        self.force = force
        self.session = http.new_session(1)
        self.retrier = http.Retrier(
            max_retry_seconds=max_retry_seconds, sleep=sleep, limits=Limits(requests_per_minute=requests_per_hour / 60.0, sleep=sleep),
        )

    def run(self, plan: ExportPlan) -> Iterator[WindowResult]:
        done = ledger.checkpointed_windows(self.con, self.source.name)
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
                    ledger.checkpoint(self.con, self.source.name, window, None, None, 0, 0)
                yield WindowResult(window, empty=True)
                continue
            results = loading.load_path(self.con, self.source.name, path)
            records = sum(r.records for r in results)
            bad = sum(r.bad_lines for r in results)
            load_ids = [r.load_id or r.already_loaded_as for r in results]
            ledger.checkpoint(self.con, self.source.name, window, path, max(load_ids) if load_ids else None, records, bad)
            yield WindowResult(window, records=records, bad_lines=bad, path=path)

    def _download(self, url: str, params: dict, path: Path, plan: ExportPlan, window: Window) -> bool:
        """Fetch one window into `path` (atomically); False when the source has nothing for it."""
        user, secret = plan.auth
        export = self.source.export
        partial = path.with_name(path.name + ".partial")
        empty = False

        def read(response) -> str:
            nonlocal empty
            if response.status_code in export.empty_statuses:
                empty = True
            elif 200 <= response.status_code < 300:
                export.store(response, partial)   # a download cut short raises: that attempt failed
                partial.replace(path)
                return ""
            return response.text[:200].strip()

        def get() -> http.Reply:
            try:
                reply = http.attempt(url, lambda: self.session.get(
                    url, params=params, auth=(user.reveal(), secret.reveal()), stream=True, timeout=self.timeout
                ), read)
            finally:
                partial.unlink(missing_ok=True)
            return http.Reply(204) if empty else reply   # 204: accepted, with nothing in it

        where = f"{self.source.name} answered"
        try:
            reply, decision, _ = self.retrier.run(url, get)
        except http.UnusableURL as exc:
            raise ExtractError(f"cannot fetch from {url}: {exc.reason}") from None
        except http.KeyRefused as exc:
            raise ExtractError(
                f"{where} {exc.reply.status} for {window.label}: the credentials in {plan.credentials} "
                "were refused; windows extracted so far are checkpointed, rerun to resume"
            ) from None
        except (http.WrongEndpoint, http.HostNotFound) as exc:
            raise ExtractError(
                f"{where} {exc.reply.status} for {window.label}: {exc.reply.text or 'no detail'}; earlier windows are checkpointed"
                if exc.reply.status is not None else
                f"cannot fetch from {url}: {exc.reply.text}; earlier windows are checkpointed"
            ) from None
        except http.RetriesExhausted as exc:
            raise ExtractError(
                f"gave up on {self.source.name} window {window.label} after {exc.attempts} attempts over {exc.elapsed:.0f}s "
                f"(last: {exc.last}); earlier windows are checkpointed, rerun to resume"
            ) from None
        if decision.action is http.Action.REJECT:   # the content of the request was refused (400, 413, 422)
            raise ExtractError(f"{where} {reply.status} for {window.label}: {reply.text or 'no detail'}; earlier windows are checkpointed")
        return not empty

    @staticmethod
    def recent(window: Window) -> bool:
        """Does the window end less than RECENT ago? (A day ends at the next midnight, an hour
        at the next hour.)"""
        if "T" in window.end:
            end = datetime.strptime(window.end, "%Y%m%dT%H") + timedelta(hours=1)
        else:
            end = datetime.fromisoformat(window.end) + timedelta(days=1)
        return utcnow() - end < RECENT
