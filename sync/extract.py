"""`sync extract`: fetch raw exports from a source's API, one time window at a time, store
each window's response on disk (compressed) and land it exactly as `sync load` would.

A window is checkpointed in `sync.extract_checkpoints` only after it landed, so a killed
extract resumes at the first window without a checkpoint; rerunning skips checkpointed
windows (`--force` fetches them again, and the loader's content hash keeps raw rows from
doubling when the source answers the same bytes). Windows never overlap: Mixpanel's
`from_date`/`to_date` are both inclusive, so each request asks for exactly one day;
Amplitude's `start`/`end` hours are both inclusive, so a day is T00..T23.

A window of a paged API (Mixpanel's Engage profiles: one snapshot a day) comes in pages: each
page is stored and landed as it arrives, and the window is checkpointed after its last page.
A window that did not finish is fetched again from its first page (its pages stored before
with the same bytes are recognised by the loader and not landed twice).
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
from sync.errors import SyncError, UnexpectedAnswer, UsageError
from sync.sources import ExportPlan, Page, Source, Window
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
    path: Path | None = None      # the stored answer (of a paged window: its last page)
    pages: int = 0                # pages landed, for a paged window
    load_id: int | None = None    # the (newest) load that holds it, or that held the same bytes before


@dataclass(frozen=True)
class PageResult:
    """One landed page of a paged window (for progress lines)."""

    window: Window
    number: int                   # 1, 2, ...
    records: int
    bad_lines: int
    path: Path
    load_id: int | None           # landed now as this load
    already_loaded_as: int | None   # or landed before with the same bytes


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
        on_page: Callable[[PageResult], None] | None = None,
    ) -> None:
        self.con = con
        self.on_page = on_page   # told about each page of a paged window as it lands
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
            result = self._fetch(plan, window)
            if not result.empty:
                ledger.checkpoint(self.con, self.source.name, window, result.path, result.load_id, result.records, result.bad_lines)
            elif not self.recent(window):
                # a source may not have processed the last hours yet: an empty recent window is
                # fetched again next time rather than checkpointed as empty for good
                ledger.checkpoint(self.con, self.source.name, window, None, None, 0, 0)
            yield result

    def _fetch(self, plan: ExportPlan, window: Window) -> WindowResult:
        """Fetch and land one window: one answer, or page after page while the API says another
        follows, each page landed as it arrives."""
        url, params = plan.request(window)
        landed: list[loading.FileResult] = []
        path, pages = None, 0
        while True:
            number = pages + 1
            page_path = self.folder / plan.filename(window, number)
            stored, page = self._download(url, params, page_path, plan, window, number)
            if page is not None and page.records == 0:   # an empty page: nothing to land
                page_path.unlink(missing_ok=True)
                stored = False
            if not stored:
                break
            results = loading.load_path(self.con, self.source.name, page_path)
            landed += results
            path = page_path
            if page is None:   # an unpaged answer: the whole window
                break
            pages = number
            if self.on_page is not None:
                self.on_page(PageResult(
                    window, number, sum(r.records for r in results), sum(r.bad_lines for r in results), page_path,
                    next((r.load_id for r in results if r.load_id), None),
                    next((r.already_loaded_as for r in results if r.already_loaded_as), None),
                ))
            if page.next is None:
                break
            params = {**params, **page.next}
        if path is None:
            return WindowResult(window, empty=True)
        return WindowResult(
            window, records=sum(r.records for r in landed), bad_lines=sum(r.bad_lines for r in landed), path=path,
            pages=pages, load_id=max((r.load_id or r.already_loaded_as or 0 for r in landed), default=0) or None,
        )

    def _download(
        self, url: str, params: dict, path: Path, plan: ExportPlan, window: Window, number: int = 1
    ) -> tuple[bool, Page | None]:
        """Fetch one window (or page `number` of it) into `path`, atomically: whether anything
        was stored (False when the source has nothing for the window), and what a paged API's
        answer said about its records and the next page (None for an unpaged answer)."""
        user, secret = plan.auth
        export = self.source.export
        partial = path.with_name(path.name + ".partial")
        empty = False
        page: Page | None = None
        fields = {"data": params} if plan.method == "POST" else {"params": params}
        label = window.label if number == 1 else f"{window.label} page {number}"

        def read(response) -> str:
            nonlocal empty, page
            if response.status_code in export.empty_statuses:
                empty = True
            elif 200 <= response.status_code < 300:
                page = export.store(response, partial)   # a download cut short raises: that attempt failed
                partial.replace(path)
                return ""
            return response.text[:200].strip()

        def fetch() -> http.Reply:
            try:
                reply = http.attempt(url, lambda: self.session.request(
                    plan.method, url, **fields, auth=(user.reveal(), secret.reveal()), stream=True, timeout=self.timeout
                ), read)
            finally:
                partial.unlink(missing_ok=True)
            return http.Reply(204) if empty else reply   # 204: accepted, with nothing in it

        where = f"{self.source.name} answered"
        try:
            reply, decision, _ = self.retrier.run(url, fetch)
        except http.UnusableURL as exc:
            raise ExtractError(f"cannot fetch from {url}: {exc.reason}") from None
        except UnexpectedAnswer as exc:
            raise ExtractError(f"unexpected answer from {self.source.name} for {label}: {exc}; earlier windows are checkpointed") from None
        except http.KeyRefused as exc:
            raise ExtractError(
                f"{where} {exc.reply.status} for {label}: the credentials in {plan.credentials} "
                "were refused; windows extracted so far are checkpointed, rerun to resume"
            ) from None
        except (http.WrongEndpoint, http.HostNotFound) as exc:
            raise ExtractError(
                f"{where} {exc.reply.status} for {label}: {exc.reply.text or 'no detail'}; earlier windows are checkpointed"
                if exc.reply.status is not None else
                f"cannot fetch from {url}: {exc.reply.text}; earlier windows are checkpointed"
            ) from None
        except http.RetriesExhausted as exc:
            raise ExtractError(
                f"gave up on {self.source.name} window {label} after {exc.attempts} attempts over {exc.elapsed:.0f}s "
                f"(last: {exc.last}); earlier windows are checkpointed, rerun to resume"
            ) from None
        if decision.action is http.Action.REJECT:   # the content of the request was refused (400, 413, 422)
            raise ExtractError(f"{where} {reply.status} for {label}: {reply.text or 'no detail'}; earlier windows are checkpointed")
        return not empty, page

    @staticmethod
    def recent(window: Window) -> bool:
        """Does the window end less than RECENT ago? (A day ends at the next midnight, an hour
        at the next hour.)"""
        if "T" in window.end:
            end = datetime.strptime(window.end, "%Y%m%dT%H") + timedelta(hours=1)
        else:
            end = datetime.fromisoformat(window.end) + timedelta(days=1)
        return utcnow() - end < RECENT
