"""`sync push --dry-run`: read exactly what a push would send, check it against the
destination's rules, write the first request bodies to a folder, and send nothing.

It is a push (sync.push) with the same selection, time windows, order, batch cuts and worker,
whose transport writes request bodies to files and whose outcomes are only counted: no run,
batch, delivery or watermark is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sync import ledger
from sync.config import PushOptions
from sync.destinations import Destination
from sync.http import Answer
from sync.push.reader import WINDOW_EVENTS, Reading
from sync.push.sender import Worker
from sync.warehouse import utcnow

EXAMPLES = 3


@dataclass
class Problem:
    kind: str
    count: int = 0
    examples: list[str] = field(default_factory=list)   # uuids

    def add(self, uuid: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(uuid)


@dataclass
class DryRun:
    stream: str
    pending: int = 0
    held: int = 0              # too recent for the destination: held back, as a push would
    requests: int = 0
    body_bytes: int = 0
    written: list[Path] = field(default_factory=list)
    problems: dict[str, Problem] = field(default_factory=dict)

    def problem(self, kind: str) -> Problem:
        return self.problems.setdefault(kind, Problem(kind))


class PreviewTransport:
    """The dry run's sender: each request is counted and, for the first `keep`, its body
    written to a file as it would be sent (secrets masked); nothing leaves the machine."""

    def __init__(self, folder: Path, keep: int, report: DryRun) -> None:
        self.folder, self.keep, self.report = folder, keep, report

    def send(self, destination: Destination, payloads: bytes, events: int) -> Answer:  # noqa: ARG002
        self.report.requests += 1
        self.report.body_bytes += len(payloads)
        if len(self.report.written) < self.keep:
            path = self.folder / f"request-{self.report.requests:05d}.json"
            body = destination.preview_body(payloads)
            path.write_text(json.dumps(json.loads(body), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            self.report.written.append(path)
        return Answer(200, "", 1)


def dry_run(
    con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions, folder: Path, keep: int = 3
) -> DryRun:
    """A push with the same reading, batches and worker, whose transport writes files and
    whose outcomes are only counted."""
    reading = Reading(con, destination, options, first_window_events=WINDOW_EVENTS)
    try:
        report = DryRun(reading.stream.name, pending=reading.pending, held=reading.selection.held)
        _check_fields(reading.cursor, reading.selection, reading.stream.noun, destination, report)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("request-*.json"):
            old.unlink()
        worker = Worker(destination, PreviewTransport(folder, keep, report))
        for batch in reading.batches():
            for failure in worker.deliver(batch).failures:   # too large: the only refusal offline
                report.problem(failure.reason).add(failure.uuid)
    finally:
        reading.close()
    return report


def _hours(age) -> str:
    return f"{age.total_seconds() / 3600:g}" if age is not None else "0"


def _check_fields(
    cursor: duckdb.DuckDBPyConnection, selection: ledger.Selection, noun: str, destination: Destination, report: DryRun
) -> None:
    """Missing ids or names (the mart's contract should make these impossible), and for
    a destination that holds recent events back (PostHog's historical flow), events too recent to send."""
    name = "e.event" if noun == "events" else "'$identify'"
    # only reached with --allow-recent: otherwise the plan holds these events back already
    cutoff = utcnow() - destination.holds_recent if destination.holds_recent is not None else None
    checks = {
        "missing_distinct_id": "nullif(trim(e.distinct_id), '') is null",
        "missing_event_name": f"nullif(trim({name}), '') is null",
        f"newer_than_{_hours(destination.holds_recent)}_hours": "e.event_at > $cutoff" if cutoff else "false",
    }
    for kind, condition in checks.items():
        count, examples = cursor.execute(
            f"select count(*), coalesce(list(uuid order by event_at)[1:{EXAMPLES}], []) from ("
            + ledger.run_pending_sql("e.uuid, e.event_at", selection) + f" and ({condition}))",
            selection.run_params() | ({"cutoff": cutoff} if "$cutoff" in condition else {}),
        ).fetchone()
        if count:
            report.problems[kind] = Problem(kind, count, list(examples))
