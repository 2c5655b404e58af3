"""`sync status`: what each destination has received, what is pending, how the last run ended."""

from __future__ import annotations

from typing import Any

import duckdb

from sync import build_state, ledger, streams
from sync.destinations import DESTINATIONS, for_stream
from sync.warehouse import relation_exists, utcnow

RUNS_SHOWN = 5


def collect(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    has_sync = relation_exists(con, "sync", "runs")
    has_events = relation_exists(con, "main", "events")
    pushed = ledger.pushed_streams(con) if has_sync else []
    report: dict[str, Any] = {
        "events_in_mart": con.execute("select count(*) from main.events").fetchone()[0] if has_events else None,
        "destinations": [],
    }
    # every destination's events; its other streams (sync.streams) once their mart has rows to
    # send or they were pushed before
    for destination in DESTINATIONS:
        for stream in (streams.EVENTS, *[s for s in streams.ORDER if s is not streams.EVENTS]):
            name = stream.ledger_name(destination)
            if stream is streams.EVENTS or name in pushed:
                report["destinations"].append(_destination(con, name, has_sync, has_events))
            elif has_events and relation_exists(con, "main", stream.mart_for(DESTINATIONS[destination])):
                entry = _destination(con, name, has_sync, has_events)
                if entry["pending"]:
                    report["destinations"].append(entry)
    for name in pushed:
        if name not in [entry["destination"] for entry in report["destinations"]]:
            report["destinations"].append(_destination(con, name, has_sync, has_events))
    report["extracts"] = [
        entry | {"last_extracted_at": _iso(entry["last_extracted_at"])} for entry in ledger.extract_summary(con)
    ]
    report["unbuilt_loads"] = [vars(load) for load in build_state.unbuilt_loads(con)]
    report["last_build_problems"] = build_state.failed_checks(con)
    return report


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
    table = ledger.stream_table(name)
    if has_events and not relation_exists(con, "main", streams.of(name).mart_for(for_stream(name))):
        return entry   # a mart this warehouse has not built yet
    if not has_sync:
        if has_events:
            entry["pending"] = con.execute(f"select count(*) from {table} as e").fetchone()[0]
        return entry
    loads = settled = 0
    if has_events:
        holds = _holds_recent(name)   # what a plain `sync push` holds back, as it would
        selection = ledger.selection_for(
            con, name, table, held_from=utcnow() - holds if holds is not None else None
        )
        entry["held"] = selection.held
        entry["pending"] = ledger.count_pending(con, selection)
        loads, settled = selection.known_loads, selection.known_loads - len(selection.loads)
    entry["delivered"] = ledger.delivered_count(con, name)
    entry["failed"], entry["failed_reasons"] = ledger.standing_failures(con, name)
    mark = ledger.watermark(con, name)
    if mark.updated_at is not None:
        entry["watermark"] = {
            "settled_loads": settled,       # loads with nothing pending (not looked at again)
            "loads": loads,
            "last_event_at": _iso(mark.last_event_at),
            "updated_at": _iso(mark.updated_at),
        }
    entry["runs"] = [
        run | {"started_at": _iso(run["started_at"]), "finished_at": _iso(run["finished_at"])}
        for run in ledger.recent_runs(con, name, RUNS_SHOWN)
    ]
    entry["last_run"] = entry["runs"][0] if entry["runs"] else None
    return entry


def _holds_recent(stream: str):
    """How recent an event of this ledger stream must not be to go by default (events only)."""
    destination = for_stream(stream)
    return destination.holds_recent if destination is not None and streams.of(stream).held else None


def _iso(value) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"
