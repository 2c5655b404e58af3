"""`sync push`: send undelivered rows of the `events` mart to a destination.

DuckDB does the per-event work: it selects pending events one time window at a time, sorts
them oldest first and builds each event's JSON. The main thread cuts the stream into batches
of `batch_size` events and hands them to up to `concurrency` workers, which join the JSON
into a body and only talk HTTP (retry policy, shared rate limits); a ledger thread writes
their outcomes. A worker looks at single events only when it must: an event over the size
limit, a body over the request limit, or a 400, which it halves until the refused events are
isolated.

Exactness: an event reaches `sync.deliveries` only after the destination accepted the
request that carried it (batch row + deliveries + watermark in one transaction). A crash
loses at most the answers of the batches in flight or queued for the ledger; they are sent
again on the next run, which PostHog merges by uuid.
"""

from __future__ import annotations

import queue
import signal
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from sync import ledger
from sync.batching import PAYLOAD, UUID, Batch, Row, cut, halves, pack
from sync.config import PushOptions
from sync.destinations import Destination
from sync.errors import Interrupted, SyncError
from sync.ratelimit import Limits
from sync.warehouse import require_mart, utcnow

if TYPE_CHECKING:
    from sync.http import Sender

FETCH_ROWS = 1000            # rows per fetchmany: the fastest size measured
WINDOW_EVENTS = 50_000      # events sorted at a time: bounds memory whatever the mart's size
FIRST_WINDOW_EVENTS = 5_000  # a short first sort, so the first requests go out sooner
MEMORY_LIMIT = "128MB"       # DuckDB buffer pool while pushing; sorts and joins spill to disk beyond it
DRAIN_SECONDS = 30.0


@dataclass
class RunSummary:
    run_id: str
    destination: str
    pending: int
    delivered: int = 0
    failed: int = 0
    batches: int = 0
    held: int = 0              # too recent for the destination: not sent, not failed
    outcome: str = "running"
    message: str | None = None


@dataclass
class Request:
    """One request a worker made and the destination's final answer to it."""

    uuids: str                 # comma-separated
    events: int
    body_bytes: int
    first_event_at: datetime
    last_event_at: datetime
    status: int
    text: str
    attempts: int
    sent_at: datetime
    answered_at: datetime

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Failure:
    uuid: str
    http_status: int | None
    reason: str
    message: str
    request_index: int | None = None   # which Request refused it, if one did


@dataclass
class Outcome:
    requests: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class _StopFlag:
    """Set by the first Ctrl-C: no new batch starts, retries stop waiting."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()


@contextmanager
def _graceful_sigint(flag: _StopFlag) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):  # noqa: ARG001
        if flag():
            raise KeyboardInterrupt
        flag.event.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class Stream:
    """What a push reads: the events mart, or (--persons) the persons mart, with the
    ledger name its watermark and deliveries are kept under."""

    name: str            # "posthog", or "posthog:persons"
    table: str           # a relation or subquery over the mart
    payload_sql: str     # one row's JSON, for this destination
    noun: str            # "events" or "persons"


def stream_for(con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions) -> Stream:
    if options.persons:
        require_mart(con, "persons")
        return Stream(
            destination.name + ledger.PERSONS_SUFFIX, ledger.PERSONS_TABLE,
            destination.persons_payload_sql(set_once=options.set_once), "persons",
        )
    require_mart(con, "events")
    return Stream(destination.name, "main.events", destination.payload_sql, "events")


def plan(
    con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions
) -> tuple[Stream, ledger.Watermark, ledger.Selection]:
    """What a push (or a dry run) reads: the stream, its watermark, and the selection of
    rows (the loads not settled yet, every load with --rescan, or the refused events)."""
    stream = stream_for(con, destination, options)
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")  # before the first query over the mart
    mark = ledger.watermark(con, stream.name)
    selection = ledger.selection_for(
        con, stream.name, stream.table, retry_failed=options.retry_failed, every_load=options.rescan
    )
    if destination.holds_recent is not None and not options.allow_recent and not options.persons:
        selection = ledger.hold_back(con, selection, utcnow() - destination.holds_recent)
    return stream, mark, selection


def rows_sql(payload_sql: str, selection: ledger.Selection) -> str:
    """The pending events of one time window in send order, each as a batching.Row with its
    JSON built. Parameters: the selection's, and window_start, window_end."""
    pending = ledger.run_pending_sql(f"e.uuid, epoch_us(e.event_at), encode({payload_sql})", selection)
    return f"""
        {pending} and e.event_at >= $window_start and e.event_at < $window_end
        order by e.event_at, e.uuid
    """


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


class LedgerWriter:
    """Writes finished outcomes to the ledger on its own DuckDB cursor and thread, so the
    warehouse work overlaps with streaming and sending. Outcomes that queue up while a
    transaction runs are written together in the next one (group commit). The queue is
    bounded: a batch is at most `capacity` outcomes away from being recorded."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        destination: str,
        run: "RunSummary",
        capacity: int,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.cursor = con.cursor()
        self.destination = destination
        self.run = run
        self.on_progress = on_progress
        self.queue: queue.Queue[list[Outcome] | None] = queue.Queue(maxsize=capacity)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="ledger", daemon=True)
        self.thread.start()

    def put(self, outcomes: list[Outcome]) -> None:
        self.queue.put(outcomes)

    def close(self) -> None:
        """Write everything queued, then stop (idempotent)."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
            self.cursor.close()

    def _loop(self) -> None:
        done = False
        while not done:
            items = [self.queue.get()]
            while True:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            done = None in items
            outcomes = [o for item in items if item for o in item]
            if not outcomes or self.error is not None:
                continue
            try:
                _record(self.cursor, self.destination, self.run, outcomes)
                if self.on_progress:
                    self.on_progress(
                        sum(r.events for o in outcomes for r in o.requests if r.accepted)
                        + sum(len(o.failures) for o in outcomes)
                    )
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                self.error = exc


class Worker:
    """Delivers one batch over HTTP; touches no database."""

    def __init__(self, destination: Destination, sender: Sender) -> None:
        self.destination = destination
        self.sender = sender

    def deliver(self, batch: Batch) -> Outcome:
        outcome = Outcome()
        payloads = batch.payloads
        fits = len(payloads) + self.destination.envelope_bytes() <= self.destination.max_body_bytes
        # no event can be larger than all of them together: most batches skip the per-event look
        limit = self.destination.max_event_bytes
        small = len(payloads) <= limit or batch.largest_event_bytes <= limit
        if fits and small:
            self._send(batch, outcome, payloads)
            return outcome
        # The slow path: look at single events.
        limit = self.destination.max_event_bytes
        sendable = []
        for row in batch.rows:
            if len(row[PAYLOAD]) > limit:
                outcome.failures.append(
                    Failure(row[UUID], None, self.destination.too_large_reason, f"{len(row[PAYLOAD])} bytes exceeds {limit}")
                )
            else:
                sendable.append(row)
        for rows in pack(
            sendable,
            max_events=batch.events,
            max_bytes=self.destination.max_body_bytes,
            envelope_bytes=self.destination.envelope_bytes(),
        ):
            self._send(Batch(rows), outcome)
        return outcome

    def _send(self, batch: Batch, outcome: Outcome, payloads: bytes | None = None) -> None:
        """Post one request carrying `batch` (its JSON already joined, if given); on a
        refusal, isolate the refused events."""
        payloads = batch.payloads if payloads is None else payloads
        sent_at = utcnow()
        answer = self.sender.send(
            self.destination.url, self.destination.body(payloads), self.destination.headers(),
            self.destination.auth(), events=batch.events,
        )
        request = Request(
            batch.uuids, batch.events, len(payloads), batch.first_event_at, batch.last_event_at,
            answer.status, answer.text, answer.attempts, sent_at, utcnow(),
        )
        outcome.requests.append(request)
        if not request.accepted:
            self._refused(batch.rows, request, outcome)

    def _refused(self, rows: list[Row], request: Request, outcome: Outcome) -> None:
        """A 400 (or other final refusal): isolate the refused events by halving."""
        if len(rows) == 1:
            outcome.failures.append(
                Failure(rows[0][UUID], request.status, "refused", request.text, request_index=len(outcome.requests) - 1)
            )
            return
        for half in halves(rows):
            self._send(Batch(half), outcome)


def push(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    options: PushOptions,
    *,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> RunSummary:
    """Deliver every pending event; returns the run's summary or raises a SyncError
    (after recording the run's outcome and the state reached). `on_retry` is told about
    every request being retried, in one line."""
    # persons are a stream of their own: own watermark, deliveries and runs
    source, _, selection = plan(con, destination, options)
    stream, payload_sql = source.name, source.payload_sql
    reader = con.cursor()
    selection = ledger.freeze_run_selection(reader, selection)
    windows = ledger.pending_windows(reader, selection, WINDOW_EVENTS, FIRST_WINDOW_EVENTS)
    pending = sum(events for _, _, events in windows)

    run = RunSummary(run_id=uuidlib.uuid4().hex, destination=stream, pending=pending, held=selection.held)
    if pending == 0:
        # Nothing to send: no run is recorded, the ledger only holds runs that did something.
        if not options.retry_failed and selection.loads:
            ledger.settle(con, selection)
        run.outcome = "nothing_pending"
        ledger.release_run_selection(reader, selection)
        reader.close()
        return run
    # The first window's query starts now and overlaps the run's first commit.
    rows = WindowReader(con, rows_sql(payload_sql, selection), selection.run_params(), windows)
    try:
        return _deliver(con, destination, options, run, rows, selection, on_progress, on_start, on_retry)
    finally:
        rows.close()
        ledger.release_run_selection(reader, selection)
        reader.close()


def _deliver(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    options: PushOptions,
    run: RunSummary,
    rows: WindowReader,
    selection: ledger.Selection,
    on_progress: Callable[[int], None] | None,
    on_start: Callable[[int], None] | None,
    on_retry: Callable[[str], None] | None = None,
) -> RunSummary:
    """The run itself, once its rows are being read: record it, send, record what happened."""
    stream, pending = run.destination, run.pending
    ledger.start_run(con, run.run_id, stream, pending, options.retry_failed)
    if on_start:
        on_start(pending)

    stop = _StopFlag()
    limits = Limits(
        events_per_second=options.max_events_per_second,
        requests_per_minute=options.max_requests_per_minute,
        sleep=stop.event.wait,
    )
    from sync.http import Sender  # here, not at the top: requests takes ~50 ms to import (see sync.cli)

    sender = Sender(
        key_env=destination.key_env,
        timeout=options.timeout_seconds,
        max_retry_seconds=options.max_retry_seconds,
        sleep=stop.event.wait,
        stopped=stop,
        limits=limits,
        connections=options.concurrency,
        on_retry=on_retry,
    )
    worker = Worker(destination, sender)
    pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="push")
    in_flight: set[Future[Outcome]] = set()
    errors: list[BaseException] = []

    writer = LedgerWriter(con, stream, run, options.concurrency, on_progress)

    def collect(futures: set[Future[Outcome]]) -> None:
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except BaseException as exc:  # noqa: BLE001 - the first error ends the run, after draining
                errors.append(exc)
        if outcomes:
            writer.put(outcomes)
        if writer.error is not None:
            errors.append(writer.error)

    def drain() -> None:
        """Wait for the batches in flight and record what they achieved. At a normal end
        each finishes within its own retry budget (rate-limit waits included); when the run
        is ending early, they get DRAIN_SECONDS, then their retries are stopped."""
        if not errors and not stop():
            collect(wait(in_flight)[0])
        else:
            done, not_done = wait(in_flight, timeout=DRAIN_SECONDS)
            collect(done)
            if not_done:
                stop.event.set()  # stop retrying; requests already on the wire finish or time out
                collect(wait(not_done)[0])
        in_flight.clear()

    try:
        with _graceful_sigint(stop):
            batch_size = min(options.batch_size or destination.default_batch_size, destination.max_events)
            for batch in cut(rows, batch_size, options.split_by_day, destination.max_body_bytes, destination.envelope_bytes()):
                while len(in_flight) >= options.concurrency and not errors and not stop():
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    in_flight.difference_update(done)
                    collect(done)
                if errors or stop():
                    break
                in_flight.add(pool.submit(worker.deliver, batch))
            drain()
        pool.shutdown()
        writer.close()
        if writer.error is not None:
            errors.append(writer.error)
        if errors:
            raise errors[0]
        if stop():
            raise Interrupted("interrupted")
        if not options.retry_failed:
            # The stream is drained: every event of the selection's loads is delivered or failed.
            ledger.settle(con, selection)
        run.outcome = "completed" if run.failed == 0 else "completed_with_failures"
        if run.failed:
            run.message = f"{run.failed} events refused by {destination.name}; see sync.failed_events"
    except BaseException as exc:
        pool.shutdown(wait=False, cancel_futures=True)
        if not isinstance(exc, KeyboardInterrupt):
            writer.close()  # what was accepted gets recorded
        interrupted = isinstance(exc, (Interrupted, KeyboardInterrupt))
        run.outcome = "interrupted" if interrupted else "failed"
        if interrupted:
            exc = Interrupted(
                f"interrupted: {run.delivered} of {pending} events delivered, {run.failed} failed; "
                "state saved: rerun `sync push` to resume"
            )
        run.message = str(exc) if isinstance(exc, SyncError) else f"{type(exc).__name__}: {exc}"
        ledger.finish_run(con, run.run_id, run.outcome, run.message)
        if isinstance(exc, SyncError):
            raise exc from None
        raise
    ledger.finish_run(con, run.run_id, run.outcome, run.message)
    return run


def _record(con: duckdb.DuckDBPyConnection, destination: str, run: RunSummary, outcomes: list[Outcome]) -> None:
    """Write finished workers' outcomes in one transaction: each request as a batch row
    (accepted ones with a delivery row per event), then the events that failed."""
    batches: list[ledger.BatchRecord] = []
    failures: list[ledger.FailureRecord] = []
    for outcome in outcomes:
        batch_ids: list[str] = []
        for request in outcome.requests:
            run.batches += 1
            batch_ids.append(f"{run.run_id}-{run.batches:06d}")
            batches.append(
                ledger.BatchRecord(
                    batch_id=batch_ids[-1],
                    run_id=run.run_id,
                    destination=destination,
                    batch_number=run.batches,
                    uuids=request.uuids,
                    events=request.events,
                    body_bytes=request.body_bytes,
                    first_event_at=request.first_event_at,
                    last_event_at=request.last_event_at,
                    status="accepted" if request.accepted else "rejected",
                    http_status=request.status,
                    attempts=request.attempts,
                    response=request.text,
                    sent_at=request.sent_at,
                    answered_at=request.answered_at,
                )
            )
            if request.accepted:
                run.delivered += request.events
        for failure in outcome.failures:
            failures.append(
                ledger.FailureRecord(
                    uuid=failure.uuid,
                    batch_id=batch_ids[failure.request_index] if failure.request_index is not None else None,
                    http_status=failure.http_status,
                    reason=failure.reason,
                    message=failure.message,
                )
            )
            run.failed += 1
    ledger.record(con, destination, run.run_id, batches, failures)
