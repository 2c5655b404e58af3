"""`sync push --dry-run`: read exactly what a push would send, check it against the
destination's rules, write the first request bodies to a folder, and send nothing.

It takes the same selection, time windows, order and batch cuts as a real push, on a
temporary table only: no run, batch, delivery or watermark is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sync import ledger
from sync.batching import PAYLOAD, UUID, cut
from sync.config import PushOptions
from sync.destinations import Destination
from sync.push import WINDOW_EVENTS, WindowReader, plan, rows_sql
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


def dry_run(
    con: duckdb.DuckDBPyConnection, destination: Destination, options: PushOptions, folder: Path, keep: int = 3
) -> DryRun:
    stream, _, selection = plan(con, destination, options)
    reader = con.cursor()
    rows = None
    try:
        selection = ledger.freeze_run_selection(reader, selection)
        windows = ledger.pending_windows(reader, selection, WINDOW_EVENTS)
        report = DryRun(stream.name, pending=sum(n for _, _, n in windows), held=selection.held)
        _check_fields(reader, selection, stream.noun, destination, report)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("request-*.json"):
            old.unlink()
        batch_size = min(options.batch_size or destination.default_batch_size, destination.max_events)
        rows = WindowReader(con, rows_sql(stream.payload_sql, selection), selection.run_params(), windows)
        limit = destination.max_event_bytes
        for batch in cut(rows, batch_size, options.split_by_day, destination.max_body_bytes, destination.envelope_bytes()):
            sendable = [row for row in batch.rows if len(row[PAYLOAD]) <= limit]
            for row in batch.rows:
                if len(row[PAYLOAD]) > limit:
                    report.problem(destination.too_large_reason).add(row[UUID])
            if not sendable:
                continue
            report.requests += 1
            report.body_bytes += batch.body_bytes
            if len(report.written) < keep:
                path = folder / f"request-{report.requests:05d}.json"
                body = destination.preview_body(b",".join(row[PAYLOAD] for row in sendable))
                path.write_text(json.dumps(json.loads(body), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
                report.written.append(path)
    finally:
        if rows is not None:
            rows.close()
        ledger.release_run_selection(reader, selection)
        reader.close()
    return report


def _check_fields(
    cursor: duckdb.DuckDBPyConnection, selection: ledger.Selection, noun: str, destination: Destination, report: DryRun
) -> None:
    """Missing ids or names (the mart's contract should make these impossible), and for
    PostHog's historical flow, events too recent to send."""
    name = "e.event" if noun == "events" else "'$identify'"
    # only reached with --allow-recent: otherwise the plan holds these events back already
    cutoff = utcnow() - destination.holds_recent if destination.holds_recent is not None else None
    checks = {
        "missing_distinct_id": "nullif(trim(e.distinct_id), '') is null",
        "missing_event_name": f"nullif(trim({name}), '') is null",
        "newer_than_48_hours": "e.event_at > $cutoff" if cutoff else "false",
    }
    for kind, condition in checks.items():
        count, examples = cursor.execute(
            f"select count(*), coalesce(list(uuid order by event_at)[1:{EXAMPLES}], []) from ("
            + ledger.run_pending_sql("e.uuid, e.event_at", selection) + f" and ({condition}))",
            selection.run_params() | ({"cutoff": cutoff} if "$cutoff" in condition else {}),
        ).fetchone()
        if count:
            report.problems[kind] = Problem(kind, count, list(examples))
