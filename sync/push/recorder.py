"""Recording what a push achieved: the run's summary, and the ledger writer that turns the
workers' outcomes into batch, delivery and failure rows (sync.ledger), on its own thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from sync import ledger
from sync.push.sender import Outcome


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


class LedgerWriter:
    """Writes finished outcomes to the ledger on its own DuckDB cursor and thread, so the
    warehouse work overlaps with streaming and sending. Outcomes that queue up while a
    transaction runs are written together in the next one (group commit). The queue is
    bounded: a batch is at most `capacity` outcomes away from being recorded."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        destination: str,
        run: RunSummary,
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
                record(self.cursor, self.destination, self.run, outcomes)
                if self.on_progress:
                    self.on_progress(
                        sum(r.events for o in outcomes for r in o.requests if r.accepted)
                        + sum(len(o.failures) for o in outcomes)
                    )
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                self.error = exc


def record(con: duckdb.DuckDBPyConnection, destination: str, run: RunSummary, outcomes: list[Outcome]) -> None:
    """Write finished workers' outcomes in one transaction: each request as a batch row
    (accepted ones with a delivery row per event), then the events that failed."""
    batches: list[ledger.BatchRecord] = []
    failures: list[ledger.FailureRecord] = []
    for outcome in outcomes:
        batch_ids: list[str] = []
        for request in outcome.requests:
            run.batches += 1
            batch_ids.append(f"{run.run_id}-{run.batches:06d}")
            batches.append(ledger.BatchRecord.of(request, batch_ids[-1], run.run_id, destination, run.batches))
            if request.accepted:
                run.delivered += request.events
        for failure in outcome.failures:
            batch_id = batch_ids[failure.request_index] if failure.request_index is not None else None
            failures.append(ledger.FailureRecord(failure.uuid, batch_id, failure.http_status, failure.reason, failure.message))
            run.failed += 1
    ledger.record(con, destination, run.run_id, batches, failures)
