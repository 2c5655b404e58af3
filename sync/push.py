"""`sync push`: send undelivered rows of the `events` mart to a destination.

The loop: stream pending events oldest first (DuckDB builds each event's JSON), cut them
into batches, send each with the retry policy, and only after the destination accepted a
batch write it to the ledger (batch, deliveries, watermark) in one transaction. A batch the
destination refuses with 400 is split in halves until the refused events are isolated;
those are recorded in `sync.failed_events` and everything else is delivered.
"""

from __future__ import annotations

import signal
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from sync import ledger
from sync.batching import Row, halves, pack
from sync.config import PushOptions
from sync.destinations import Destination
from sync.errors import Interrupted, SyncError
from sync.http import Answer, Sender
from sync.warehouse import require_events_mart, utcnow

FETCH_ROWS = 10_000


@dataclass
class RunSummary:
    run_id: str
    destination: str
    pending: int
    delivered: int = 0
    failed: int = 0
    batches: int = 0
    outcome: str = "running"
    message: str | None = None


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


def _stream(cursor: duckdb.DuckDBPyConnection) -> Iterator[Row]:
    while True:
        chunk = cursor.fetchmany(FETCH_ROWS)
        if not chunk:
            return
        for uuid, event_at, payload in chunk:
            yield Row(uuid, event_at, payload.encode())


def push(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    options: PushOptions,
    *,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    sender: Sender | None = None,
) -> RunSummary:
    """Deliver every pending event; returns the run's summary or raises a SyncError
    (after recording the run's outcome and the state reached)."""
    require_events_mart(con)
    mark = ledger.watermark(con, destination.name)
    scope = ledger.max_load_id(con)
    params = ledger.pending_params(destination.name, mark.loaded_through_load_id, scope)
    pending = con.execute(ledger.pending_sql("count(*)"), params).fetchone()[0]

    run = RunSummary(run_id=uuidlib.uuid4().hex, destination=destination.name, pending=pending)
    if pending == 0:
        # Nothing to send: no run is recorded, the ledger only holds runs that did something.
        if scope > mark.loaded_through_load_id:
            ledger.advance_watermark(con, destination.name, scope)
        run.outcome = "nothing_pending"
        return run
    ledger.start_run(con, run.run_id, destination.name, pending)
    if on_start:
        on_start(pending)

    stop = _StopFlag()
    sender = sender or Sender(
        key_env=destination.key_env,
        timeout=options.timeout_seconds,
        max_retry_seconds=options.max_retry_seconds,
        sleep=stop.event.wait,
        stopped=stop,
    )
    reader = con.cursor()
    try:
        with _graceful_sigint(stop):
            reader.execute(
                ledger.pending_sql(f"e.uuid, e.event_at, {destination.payload_sql}") + " order by e.event_at, e.uuid",
                params,
            )
            rows = _stream(reader)
            for batch in pack(
                rows,
                max_events=options.batch_size,
                max_bytes=destination.max_body_bytes,
                envelope_bytes=destination.envelope_bytes(),
            ):
                if stop():
                    raise Interrupted(
                        f"interrupted: {run.delivered} of {pending} events delivered, "
                        "state saved; rerun `sync push` to resume"
                    )
                _deliver(con, destination, sender, run, batch, stop)
                if on_progress:
                    on_progress(len(batch))
        # The stream is drained: every event up to `scope` is now delivered or failed.
        ledger.advance_watermark(con, destination.name, scope)
        run.outcome = "completed" if run.failed == 0 else "completed_with_failures"
        if run.failed:
            run.message = f"{run.failed} events refused by {destination.name}; see sync.failed_events"
    except (SyncError, KeyboardInterrupt) as exc:
        run.outcome = "interrupted" if isinstance(exc, (Interrupted, KeyboardInterrupt)) else "failed"
        run.message = str(exc) or "interrupted"
        ledger.finish_run(con, run.run_id, run.outcome, run.message)
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(
                f"interrupted: {run.delivered} of {pending} events delivered, state saved; "
                "rerun `sync push` to resume"
            ) from None
        raise
    finally:
        reader.close()
    ledger.finish_run(con, run.run_id, run.outcome, run.message)
    return run


def _deliver(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    sender: Sender,
    run: RunSummary,
    batch: list[Row],
    stop: Callable[[], bool],
) -> None:
    """Send one batch; on a 400, split it to isolate the refused events."""
    if len(batch) == 1 and len(batch[0].payload) > destination.max_event_bytes:
        ledger.record_failed(
            con, destination=destination.name, run_id=run.run_id, batch_id=None, uuids=[batch[0].uuid],
            http_status=None, reason="event_too_large",
            message=f"{len(batch[0].payload)} bytes exceeds {destination.max_event_bytes}",
        )
        run.failed += 1
        return
    oversized = [row for row in batch if len(row.payload) > destination.max_event_bytes]
    if oversized:
        for row in oversized:
            _deliver(con, destination, sender, run, [row], stop)
        batch = [row for row in batch if len(row.payload) <= destination.max_event_bytes]
        if not batch:
            return

    raw = [row.payload for row in batch]
    body = destination.body(raw)
    sent_at = utcnow()
    answer: Answer = sender.send(destination.url, body, destination.headers(), destination.auth())
    run.batches += 1
    accepted = 200 <= answer.status < 300
    record = ledger.BatchRecord(
        batch_id=f"{run.run_id}-{run.batches:06d}",
        run_id=run.run_id,
        destination=destination.name,
        batch_number=run.batches,
        uuids=[row.uuid for row in batch],
        body_bytes=destination.envelope_bytes() + sum(len(p) for p in raw) + len(raw) - 1,
        first_event_at=batch[0].event_at,
        last_event_at=batch[-1].event_at,
        status="accepted" if accepted else "rejected",
        http_status=answer.status,
        attempts=answer.attempts,
        response=answer.text,
        sent_at=sent_at,
        answered_at=utcnow(),
    )
    ledger.record_batch(con, record)
    if accepted:
        run.delivered += len(batch)
        return
    if len(batch) == 1:
        ledger.record_failed(
            con, destination=destination.name, run_id=run.run_id, batch_id=record.batch_id,
            uuids=[batch[0].uuid], http_status=answer.status, reason="refused", message=answer.text,
        )
        run.failed += 1
        return
    for half in halves(batch):
        _deliver(con, destination, sender, run, half, stop)
