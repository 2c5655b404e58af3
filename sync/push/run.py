"""Running a push: read pending rows (reader), send batches from a pool of workers (sender),
record every answer (recorder), and end the run with its outcome in the ledger.

The main thread cuts the stream into batches and hands them to up to `concurrency` workers,
which only talk HTTP (retry policy, shared rate limits); a ledger thread writes their
outcomes. Exactness: an event reaches `sync.deliveries` only after the destination accepted
the request that carried it (batch row + deliveries + watermark in one transaction). A crash
loses at most the answers of the batches in flight or queued for the ledger; they are sent
again on the next run, which the destination merges by uuid.
"""

from __future__ import annotations

import importlib
import signal
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

import duckdb

from sync import ledger
from sync.config import PushOptions
from sync.destinations import Destination
from sync.errors import Interrupted, SyncError
from sync.push.reader import Reading
from sync.push.recorder import LedgerWriter, RunSummary
from sync.push.sender import HttpTransport, Outcome, Worker
from sync.ratelimit import Limits

DRAIN_SECONDS = 30.0


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


def _import_quietly(module: str) -> None:
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - the import where the module is used reports the problem
        pass


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
    # requests takes ~50 ms to import: it loads while DuckDB plans the run (DuckDB works
    # without holding the GIL); _deliver imports it when it sends.
    threading.Thread(target=_import_quietly, args=("sync.http",), name="import-http", daemon=True).start()
    # persons are a stream of their own: own watermark, deliveries and runs
    reading = Reading(con, destination, options)
    selection = reading.selection
    run = RunSummary(run_id=uuidlib.uuid4().hex, destination=reading.stream.name, pending=reading.pending, held=selection.held)
    try:
        if reading.pending == 0:
            # Nothing to send: no run is recorded, the ledger only holds runs that did something.
            if not options.retry_failed and selection.loads:
                ledger.settle(con, selection)
            run.outcome = "nothing_pending"
            return run
        reading.start()   # the first window's query overlaps the run's first commit
        return _deliver(con, destination, options, run, reading, on_progress, on_start, on_retry)
    finally:
        reading.close()


def _deliver(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    options: PushOptions,
    run: RunSummary,
    reading: Reading,
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
    from sync.http import Sender  # here, not at the top: requests takes ~50 ms to import (see push())

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
    worker = Worker(destination, HttpTransport(sender))
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
            for batch in reading.batches():
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
            ledger.settle(con, reading.selection)
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
