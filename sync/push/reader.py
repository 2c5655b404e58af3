"""What a push reads: the stream (events or persons mart), the ledger's selection of pending
rows, and the rows themselves, one bounded time window at a time, cut into batches.

DuckDB does the per-event work: it selects the pending events of one window, sorts them
oldest first and builds each event's JSON; the reader cuts that stream into batches."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import duckdb

from sync import ledger, streams
from sync.batching import Batch, Row, cut
from sync.config import PushOptions
from sync.destinations import Destination
from sync.warehouse import require_mart, utcnow

FETCH_ROWS = 1000            # rows per fetchmany: the fastest size measured
WINDOW_EVENTS = 50_000      # events sorted at a time: bounds memory whatever the mart's size
FIRST_WINDOW_EVENTS = 5_000  # a short first sort, so the first requests go out sooner
MEMORY_LIMIT = "128MB"       # DuckDB buffer pool while pushing; sorts and joins spill to disk beyond it


@dataclass(frozen=True)
class Stream:
    """What a push reads: one of sync.streams' marts, with the ledger name its deliveries and
    settled loads are kept under and the JSON one row becomes for this destination."""

    name: str            # "posthog", "posthog:persons", "posthog:identities", "posthog:groups"
    table: str           # a relation or subquery over the mart
    payload_sql: str     # one row's JSON, for this destination
    noun: str            # "events", "persons", "links" or "groups"
    held: bool           # the destination's minimum age applies


def stream_for(con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions) -> Stream:
    kind = streams.BY_NAME[options.stream]
    require_mart(con, kind.mart_for(destination))
    return Stream(
        kind.ledger_name(destination.name), kind.table_for(destination), kind.payload_sql(destination, options.set_once),
        kind.noun, kind.held,
    )


def plan(
    con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions
) -> tuple[Stream, ledger.Watermark, ledger.Selection]:
    """What a push (or a dry run) reads: the stream, its watermark, and the selection of
    rows (the loads not settled yet, every load with --rescan, or the refused events)."""
    stream = stream_for(con, destination, options)
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")  # before the first query over the mart
    mark = ledger.watermark(con, stream.name)
    holds = destination.holds_recent is not None and not options.allow_recent and stream.held
    selection = ledger.selection_for(
        con, stream.name, stream.table, retry_failed=options.retry_failed, every_load=options.rescan,
        held_from=utcnow() - destination.holds_recent if holds else None,
    )
    return stream, mark, selection


def rows_sql(payload_sql: str, selection: ledger.Selection) -> str:
    """The pending events of one time window in send order, each as a batching.Row with its
    JSON built. Parameters: the selection's, and window_start, window_end."""
    pending = ledger.run_pending_sql(f"e.uuid, epoch_us(e.event_at), encode({payload_sql})", selection)
    return f"""
        {pending} and e.event_at >= $window_start and e.event_at < $window_end
        order by e.event_at, e.uuid
    """


def batch_size(destination: Destination, options: PushOptions) -> int:
    return min(options.batch_size or destination.default_batch_size, destination.max_events)


class WindowReader:
    """Pending events oldest first, one time window (one bounded sort) at a time. Each
    window's query runs ahead on its own thread and cursor: the first starts as soon as the
    reader is made, and the next one while the current window's rows are consumed, so
    workers do not sit idle while DuckDB sorts. At most two windows are held at once."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: dict, windows: list[tuple[datetime, datetime, int]]
    ) -> None:
        self._sql, self._params, self._windows = sql, params, windows
        self._cursors = [con.cursor(), con.cursor()]
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
        self._upcoming = self._ahead.submit(self._query, 0) if windows else None

    def _query(self, index: int) -> duckdb.DuckDBPyConnection:
        start, end, _ = self._windows[index]
        cursor = self._cursors[index % 2]
        cursor.execute(self._sql, self._params | {"window_start": start, "window_end": end})
        return cursor

    def __iter__(self) -> Iterator[Row]:
        for index in range(len(self._windows)):
            cursor = self._upcoming.result()
            if index + 1 < len(self._windows):
                self._upcoming = self._ahead.submit(self._query, index + 1)
            while chunk := cursor.fetchmany(FETCH_ROWS):
                yield from chunk

    def close(self) -> None:
        """Stop reading ahead: a query still running is interrupted, and ends before its
        cursor is closed (DuckDB refuses to close a cursor that is executing)."""
        if self._upcoming is not None and not self._upcoming.done():
            for cursor in self._cursors:
                cursor.interrupt()
        self._ahead.shutdown(wait=True)
        for cursor in self._cursors:
            cursor.close()


class Reading:
    """One push's (or dry run's) reading, from plan to batches: the selection is frozen for
    the run on its own cursor, its time windows counted, and `start()` begins reading rows.
    `close()` releases all of it."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions,
        first_window_events: int = FIRST_WINDOW_EVENTS,
    ) -> None:
        self.con, self.destination, self.options = con, destination, options
        self.stream, self.mark, selection = plan(con, destination, options)
        self.cursor = con.cursor()
        self.selection = ledger.freeze_run_selection(self.cursor, selection)
        self.windows = ledger.pending_windows(self.cursor, self.selection, WINDOW_EVENTS, first_window_events)
        self.pending = sum(events for _, _, events in self.windows)
        self.rows: WindowReader | None = None

    def start(self) -> None:
        """Start the first window's query (it overlaps whatever the caller does next)."""
        self.rows = WindowReader(self.con, rows_sql(self.stream.payload_sql, self.selection), self.selection.run_params(), self.windows)

    def batches(self) -> Iterator[Batch]:
        """The pending rows in send order, cut by count, UTC day (with --split-by-day) and size."""
        if self.rows is None:
            self.start()
        destination = self.destination
        return cut(
            self.rows, batch_size(destination, self.options), self.options.split_by_day,
            destination.max_body_bytes, destination.envelope_bytes(),
        )

    def close(self) -> None:
        if self.rows is not None:
            self.rows.close()
        ledger.release_run_selection(self.cursor, self.selection)
        self.cursor.close()
