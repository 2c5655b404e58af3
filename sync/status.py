"""`sync status`: what each destination has received, what is pending, how the last run ended."""

from __future__ import annotations

from typing import Any

import duckdb

from sync import build_state, ledger
from sync.destinations import DESTINATIONS, for_stream
from sync.warehouse import ledger_views, relation_exists, utcnow

RUNS_SHOWN = 5


def collect(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    has_sync = relation_exists(con, "sync", "runs")
    has_events = relation_exists(con, "main", "events")
    known = list(DESTINATIONS)
    if has_sync:
        for (name,) in con.execute("select distinct destination from sync.runs order by 1").fetchall():
            if name not in known:
                known.append(name)
    report: dict[str, Any] = {
        "events_in_mart": con.execute("select count(*) from main.events").fetchone()[0] if has_events else None,
        "destinations": [],
    }
    for name in known:
        report["destinations"].append(_destination(con, name, has_sync, has_events))
    report["extracts"] = _extracts(con) if relation_exists(con, "sync", "extract_checkpoints") else []
    report["unbuilt_loads"] = [vars(load) for load in build_state.unbuilt_loads(con)]
    report["last_build_problems"] = build_state.failed_checks(con)
    return report


def _extracts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(
        """
        select source_system, count(*), min(window_start), max(window_end), sum(records), sum(bad_lines),
               count(*) filter (where file_path is null), max(extracted_at)
        from sync.extract_checkpoints group by 1 order by 1
        """
    ).fetchall()
    keys = ("source", "windows", "first_window", "last_window", "records", "bad_lines", "empty_windows", "last_extracted_at")
    extracts = [dict(zip(keys, row, strict=True)) for row in rows]
    for entry in extracts:
        entry["last_extracted_at"] = _iso(entry["last_extracted_at"])
    return extracts


def _destination(con: duckdb.DuckDBPyConnection, name: str, has_sync: bool, has_events: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "destination": name,
        "pending": None,
        "held": 0,                      # too recent to send by default (PostHog: newer than 48 h)
        "delivered": 0,
        "failed": 0,
        "failed_reasons": [],
        "watermark": None,
        "runs": [],
        "last_run": None,
    }
    if not has_sync:
        if has_events:
            entry["pending"] = con.execute("select count(*) from main.events").fetchone()[0]
        return entry
    loads = settled = 0
    if has_events:
        table = ledger.stream_table(name)
        states = ledger.load_states(con, table)
        selection = ledger.Selection(name, ledger.unsettled(con, name, states), table=table)
        holds = _holds_recent(name)
        if holds is not None:
            selection = ledger.hold_back(con, selection, utcnow() - holds)
            entry["held"] = selection.held
        entry["pending"] = ledger.count_pending(con, selection)
        loads, settled = len(states), len(states) - len(selection.loads)
    entry["delivered"] = con.execute("select count(*) from sync.deliveries where destination = ?", [name]).fetchone()[0]
    failures = ledger_views(con)
    entry["failed"] = con.execute(
        f"select count(distinct uuid) from {failures} where destination = $name", {"name": name}
    ).fetchone()[0]
    mark = ledger.watermark(con, name)
    if mark.updated_at is not None:
        entry["watermark"] = {
            "settled_loads": settled,       # loads with nothing pending (not looked at again)
            "loads": loads,
            "last_event_at": _iso(mark.last_event_at),
            "updated_at": _iso(mark.updated_at),
        }
    entry["failed_reasons"] = [
        {"reason": reason, "http_status": status, "events": count}
        for reason, status, count in con.execute(
            f"""
            select reason, http_status, count(distinct uuid) from {failures}
            where destination = $name
            group by all order by 3 desc, 1 limit 5
            """,
            {"name": name},
        ).fetchall()
    ]
    # warehouses made before retry_failed was recorded get it from the next `sync` that writes
    has_retry = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'sync' and table_name = 'runs' "
        "and column_name = 'retry_failed'"
    ).fetchone()[0]
    rows = con.execute(
        f"""
        select run_id, started_at, finished_at, outcome, message, events_pending, events_delivered,
               events_failed, batches, {'coalesce(retry_failed, false)' if has_retry else 'false'}
        from sync.runs where destination = ? order by started_at desc limit ?
        """,
        [name, RUNS_SHOWN],
    ).fetchall()
    keys = ("run_id", "started_at", "finished_at", "outcome", "message", "pending", "delivered", "failed", "batches", "retry_failed")
    entry["runs"] = []
    for row in rows:
        run = dict(zip(keys, row, strict=True))
        run["started_at"] = _iso(run["started_at"])
        run["finished_at"] = _iso(run["finished_at"])
        entry["runs"].append(run)
    entry["last_run"] = entry["runs"][0] if entry["runs"] else None
    return entry


def _holds_recent(stream: str):
    """How recent an event of this ledger stream must not be to go by default (events only)."""
    destination = for_stream(stream)
    return destination.holds_recent if destination is not None and stream == destination.name else None


def _iso(value) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"
