"""The push ledger in the warehouse's `sync` schema: runs, batches, per-event deliveries,
failed events and per-destination watermarks.

Invariant: an event is in `sync.deliveries` only after the destination accepted the request
that carried it, and the batch row, its deliveries and the watermark move in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import duckdb

from sync import streams
from sync.destinations import for_stream
from sync.warehouse import ledger_views, relation_exists, utcnow


@dataclass(frozen=True)
class Watermark:
    loaded_through_load_id: int
    last_event_at: datetime | None
    updated_at: datetime | None


def watermark(con: duckdb.DuckDBPyConnection, destination: str) -> Watermark:
    row = con.execute(
        "select loaded_through_load_id, last_event_at, updated_at from sync.watermarks where destination = ?",
        [destination],
    ).fetchone()
    return Watermark(*row) if row else Watermark(0, None, None)


@dataclass(frozen=True)
class LoadState:
    """One load's rows in a mart, as a push finds them: how many, and the dbt build that
    wrote them all (None when several builds did)."""

    load_id: int
    events: int
    build_id: str | None


@dataclass(frozen=True)
class Selection:
    """Which events a push run takes: those of the loads not settled yet that the
    destination has neither accepted nor refused, or (retry_failed) the ones it refused
    before and has not accepted since."""

    destination: str           # the ledger's name for the stream: "posthog", "posthog:persons", ... (sync.streams)
    loads: tuple[LoadState, ...]  # the loads to look in (every load of the mart for retry_failed)
    retry_failed: bool = False
    table: str = "main.events"  # the mart the stream reads: main.events, main.persons, ...
    excludes: bool = True       # False once a run found none of its loads' events delivered or refused
    held_from: datetime | None = None  # events at or after this time are held back, not sent
    held_loads: frozenset[int] = frozenset()  # loads with events held back: not settled
    held: int = 0               # how many events are held back
    known_loads: int = 0        # the loads the mart has (settled ones included)

    @property
    def scope(self) -> int:
        """The newest load looked in (0 for none)."""
        return max((load.load_id for load in self.loads), default=0)

    def load_filter(self) -> str:
        """SQL over the mart `e`: the row is in one of the selection's loads. Load ids are
        integers from the mart, so they are written into the SQL as a list DuckDB can use to
        skip row groups."""
        if self.retry_failed:
            return "true"
        if not self.loads:
            return "false"
        return f"e.load_id in ({', '.join(str(int(load.load_id)) for load in self.loads)})"

    def time_filter(self) -> str:
        """SQL over the mart `e`: the event is old enough to send."""
        return "e.event_at < $held_from" if self.held_from is not None else "true"

    def params(self) -> dict:
        """Parameters of `pending_sql`."""
        return {"destination": self.destination} | self._held_params()

    def run_params(self) -> dict:
        """Parameters of `run_pending_sql`."""
        return self.params() if self.retry_failed else self._held_params()

    def _held_params(self) -> dict:
        return {"held_from": self.held_from} if self.held_from is not None else {}


# Through sync.deliveries, so that read-only commands also work on a warehouse whose ledger
# predates the view (there it is still a table with the same columns).
_DELIVERED = "select 1 from sync.deliveries as d where d.destination = $destination and d.uuid = e.uuid"
_FAILED = "select 1 from sync.failed_events as f where f.destination = $destination and f.uuid = e.uuid"


def load_states(con: duckdb.DuckDBPyConnection, table: str) -> list[LoadState]:
    """Every load of the mart `table` with its row count and the build that wrote it."""
    rows = con.execute(
        f"""
        select load_id, count(*), case when min(build_id) = max(build_id) and count(build_id) = count(*) then min(build_id) end
        from {table} group by load_id order by load_id
        """
    ).fetchall()
    return [LoadState(*row) for row in rows]


def unsettled(
    con: duckdb.DuckDBPyConnection, destination: str, states: list[LoadState]
) -> tuple[LoadState, ...]:
    """The loads that may hold pending events: all but those settled with exactly these rows.

    A load is settled once a push found every one of its rows delivered or refused. Its rows
    are then known by count and by the build that wrote them: the incremental marts only
    append, a rebuild writes every row again under a new build id, and the ledger only grows,
    so while a load has the same count from the same single build nothing of it can be
    pending. Any change (a full refresh, rows added to the load by another build) makes it
    unsettled, and it is looked at row by row again."""
    settled: dict[int, tuple[str, int]] = {}
    if relation_exists(con, "sync", "settled_loads"):
        settled = {
            load_id: (build_id, events)
            for load_id, build_id, events in con.execute(
                "select load_id, build_id, events from sync.settled_loads where destination = ?", [destination]
            ).fetchall()
        }
    return tuple(
        load for load in states
        if load.build_id is None or settled.get(load.load_id) != (load.build_id, load.events)
    )


def selection_for(
    con: duckdb.DuckDBPyConnection, destination: str, table: str, *, retry_failed: bool = False, every_load: bool = False,
    held_from: datetime | None = None,
) -> Selection:
    """The selection of a push (or of `sync status`'s count of what it would send) over the
    mart `table`; events at or after `held_from` are held back."""
    states = load_states(con, table)
    loads = tuple(states) if retry_failed or every_load else unsettled(con, destination, states)
    selection = Selection(destination, loads, retry_failed, table, known_loads=len(states))
    return hold_back(con, selection, held_from) if held_from is not None else selection


def hold_back(con: duckdb.DuckDBPyConnection, selection: Selection, held_from: datetime) -> Selection:
    """The selection without the events at or after `held_from` (too recent for the
    destination's historical import, or dated in the future), counting them. The
    loads that hold some stay unsettled, so they are looked at again next time."""
    held = replace(selection, held_from=None)
    rows = con.execute(
        pending_sql("e.load_id, count(*)", held) + " and e.event_at >= $held_from group by 1",
        held.params() | {"held_from": held_from},
    ).fetchall()
    return replace(
        selection, held_from=held_from, held_loads=frozenset(load for load, _ in rows), held=sum(n for _, n in rows)
    )


def settle(con: duckdb.DuckDBPyConnection, selection: Selection) -> None:
    """Every event of the selection's loads is now delivered or refused: remember each load
    as the mart held it when the run began (loads written by several builds, and loads with
    events held back, are not kept)."""
    loads = [load for load in selection.loads if load.build_id is not None and load.load_id not in selection.held_loads]
    now = utcnow()
    con.execute("begin transaction")
    try:
        if loads:
            con.execute(
                """
                insert or replace into sync.settled_loads
                select $destination, unnest($load_ids), unnest($build_ids), unnest($events), $now
                """,
                {
                    "destination": selection.destination,
                    "load_ids": [load.load_id for load in loads],
                    "build_ids": [load.build_id for load in loads],
                    "events": [load.events for load in loads],
                    "now": now,
                },
            )
        con.execute(
            """
            insert into sync.watermarks values ($destination, $scope, null, $now)
            on conflict (destination) do update set
                loaded_through_load_id = greatest(sync.watermarks.loaded_through_load_id, excluded.loaded_through_load_id),
                updated_at = excluded.updated_at
            """,
            {"destination": selection.destination, "scope": selection.scope, "now": now},
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def pending_sql(select_list: str, selection: Selection) -> str:
    """Events a run should send, not yet delivered to the destination (`e` is the mart)."""
    if selection.retry_failed:
        condition = f"exists ({_FAILED})"
    else:
        condition = f"{selection.load_filter()} and not exists ({_FAILED})"
    return (
        f"select {select_list} from {selection.table} as e "
        f"where {condition} and {selection.time_filter()} and not exists ({_DELIVERED})"
    )


RUN_SCOPE = "sync_run_scope"   # an in-memory database every cursor of the connection sees


def freeze_run_selection(cursor: duckdb.DuckDBPyConnection, selection: Selection) -> Selection:
    """At the start of a run, note (in memory, visible to every cursor of this connection)
    the events of the run's scope that the destination already accepted or refused. The run
    then reads its time windows once each, in order, so what it delivers itself never shows
    up in a later window: excluding this frozen set is exact, and cheaper than checking the
    growing ledger."""
    if selection.retry_failed:
        return selection
    cursor.execute(f"attach if not exists ':memory:' as {RUN_SCOPE} (read_only false)")  # also for a dry run's read-only warehouse
    cursor.execute(
        f"""
        create or replace table {RUN_SCOPE}.excluded as
        select e.uuid from {selection.table} as e
        where {selection.load_filter()} and exists ({_DELIVERED})
        union all  -- rather than `or`: two plain semi joins, three times faster on a big ledger
        select e.uuid from {selection.table} as e
        where {selection.load_filter()} and exists ({_FAILED})
        """,
        {"destination": selection.destination},
    )
    # A first push of new loads has nothing to leave out: its reads then skip the anti join.
    excludes = cursor.execute(f"select exists (select 1 from {RUN_SCOPE}.excluded)").fetchone()[0]
    return replace(selection, excludes=excludes)


def release_run_selection(cursor: duckdb.DuckDBPyConnection, selection: Selection) -> None:
    """Free what `freeze_run_selection` kept in memory."""
    if not selection.retry_failed:
        cursor.execute(f"drop table if exists {RUN_SCOPE}.excluded")


def run_pending_sql(select_list: str, selection: Selection) -> str:
    """`pending_sql` for a run, after `freeze_run_selection` on the same connection."""
    if selection.retry_failed:
        return pending_sql(select_list, selection)
    excluded = f"and not exists (select 1 from {RUN_SCOPE}.excluded as x where x.uuid = e.uuid)" if selection.excludes else ""
    return f"""
        select {select_list} from {selection.table} as e
        where {selection.load_filter()} and {selection.time_filter()}
          {excluded}
    """


def pending_windows(
    con: duckdb.DuckDBPyConnection, selection: Selection, max_events: int, first_max_events: int | None = None
) -> list[tuple[datetime, datetime, int]]:
    """Cut the pending events into consecutive time windows `[start, end)` of whole UTC
    minutes holding about `max_events` events each (one busy minute may hold more), so each
    window can be sorted and sent with bounded memory. The first window holds about
    `first_max_events`, if given: the first requests wait for its sort. Returns (start, end, events)."""
    minutes = con.execute(
        run_pending_sql("date_trunc('minute', e.event_at) as minute, count(*) as events", selection)
        + " group by 1 order by 1",
        selection.run_params(),
    ).fetchall()
    windows: list[tuple[datetime, datetime, int]] = []
    start, count = None, 0
    for minute, events in minutes:
        limit = max_events if windows or first_max_events is None else first_max_events
        if start is not None and count + events > limit:
            windows.append((start, minute, count))
            start, count = None, 0
        if start is None:
            start = minute
        count += events
    if start is not None:
        windows.append((start, minutes[-1][0] + timedelta(minutes=1), count))
    return windows


def stream_table(destination: str) -> str:
    """The mart a ledger stream reads ("posthog:persons" reads the persons mart; see sync.streams)."""
    return streams.of(destination).table_for(for_stream(destination))


def count_pending(con: duckdb.DuckDBPyConnection, selection: Selection) -> int:
    """Exactly what a push of `selection` would send now."""
    if not selection.loads and not selection.retry_failed:
        return 0
    return con.execute(pending_sql("count(*)", selection), selection.params()).fetchone()[0]


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, destination: str, pending: int, retry_failed: bool = False
) -> None:
    now = utcnow()
    con.execute(
        "insert into sync.runs (run_id, destination, started_at, outcome, events_pending, retry_failed)"
        " values (?, ?, ?, 'running', ?, ?)",
        [run_id, destination, now, pending, retry_failed],
    )
    con.execute(
        "insert into sync.watermarks values (?, 0, null, ?) on conflict (destination) do nothing", [destination, now]
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, message: str | None) -> None:
    """Close a run; its counts are taken from what the ledger holds for it."""
    con.execute(
        """
        update sync.runs set
            finished_at = $now,
            outcome = $outcome,
            message = $message,
            events_delivered = (select count(*) from sync.deliveries where run_id = $run_id),
            events_failed = (select count(*) from sync.failed_events where run_id = $run_id),
            batches = (select count(*) from sync.batches where run_id = $run_id)
        where run_id = $run_id
        """,
        {"now": utcnow(), "outcome": outcome, "message": message, "run_id": run_id},
    )


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    run_id: str
    destination: str
    batch_number: int
    uuids: str                 # comma-separated
    events: int
    body_bytes: int
    first_event_at: datetime | None
    last_event_at: datetime | None
    status: str
    http_status: int
    attempts: int
    response: str
    sent_at: datetime
    answered_at: datetime

    @classmethod
    def of(cls, request, batch_id: str, run_id: str, destination: str, batch_number: int) -> "BatchRecord":
        """The row for one answered request (sync.push.sender.Request): its own fields, plus
        where it belongs and how the destination answered."""
        carried = {name: getattr(request, name) for name in _REQUEST_FIELDS}
        return cls(
            batch_id=batch_id, run_id=run_id, destination=destination, batch_number=batch_number,
            status="accepted" if request.accepted else "rejected", http_status=request.status, response=request.text,
            **carried,
        )


# what a request carries over to its batch row as it is
_REQUEST_FIELDS = ("uuids", "events", "body_bytes", "first_event_at", "last_event_at", "attempts", "sent_at", "answered_at")


@dataclass(frozen=True)
class FailureRecord:
    uuid: str
    batch_id: str | None
    http_status: int | None
    reason: str
    message: str | None


def _columns(rows: list, names: list[str]) -> dict[str, list]:
    """Rows of a dataclass as one list per column: parameters for `_insert_columns`."""
    return {name: [getattr(row, name) for row in rows] for name in names}


def _insert_columns(
    con: duckdb.DuckDBPyConnection, table: str, select: str, columns: dict[str, list], constants: dict | None = None
) -> None:
    """Insert many rows in one statement: each of `columns` is a list of values, unnested
    side by side; `select` may also use the scalar `constants` as $name. One statement per
    table per transaction, whatever the number of rows: DuckDB's cost is per statement."""
    unnested = ", ".join(f"unnest(${name}) as {name}" for name in columns)
    con.execute(f"insert into {table} select {select} from (select {unnested})", columns | (constants or {}))


_BATCH_COLUMNS = [
    "batch_id", "run_id", "destination", "batch_number", "events", "body_bytes", "first_event_at",
    "last_event_at", "status", "http_status", "attempts", "response", "sent_at", "answered_at",
]


def record(
    con: duckdb.DuckDBPyConnection,
    destination: str,
    run_id: str,
    batches: list[BatchRecord],
    failures: list[FailureRecord],
) -> None:
    """Write answered requests (accepted ones with one delivery row per event) and failed
    events, all in one transaction."""
    accepted = [b for b in batches if b.status == "accepted"]
    con.execute("begin transaction")
    try:
        if batches:
            _insert_columns(con, "sync.batches", ", ".join(_BATCH_COLUMNS), _columns(batches, _BATCH_COLUMNS))
        if accepted:
            # uuids are hex and dashes (the mart tests it): a comma-joined string per batch is the cheapest way in
            _insert_columns(
                con, "sync.delivered_uuids", "batch_id, unnest(string_split(uuids, ','))",
                _columns(accepted, ["batch_id", "uuids"]),
            )
            con.execute(
                """
                update sync.watermarks
                set last_event_at = greatest(coalesce(last_event_at, $at), $at), updated_at = $now
                where destination = $destination
                """,
                {"at": max(b.last_event_at for b in accepted), "now": utcnow(), "destination": destination},
            )
        if failures:
            _insert_columns(
                con, "sync.failed_events",
                "$destination, uuid, $run_id, batch_id, http_status, reason, message, $now",
                _columns(failures, ["uuid", "batch_id", "http_status", "reason", "message"]),
                {"destination": destination, "run_id": run_id, "now": utcnow()},
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


# What `sync status` shows, each asked in one place.

def pushed_streams(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every ledger stream that has a run ("posthog", "posthog:persons", ...)."""
    return [name for (name,) in con.execute("select distinct destination from sync.runs order by 1").fetchall()]


def delivered_count(con: duckdb.DuckDBPyConnection, destination: str) -> int:
    return con.execute("select count(*) from sync.deliveries where destination = ?", [destination]).fetchone()[0]


def standing_failures(con: duckdb.DuckDBPyConnection, destination: str, reasons: int = 5) -> tuple[int, list[dict]]:
    """Events refused and not delivered since: how many, and the top reasons."""
    failures = ledger_views(con)
    (count,) = con.execute(
        f"select count(distinct uuid) from {failures} where destination = $name", {"name": destination}
    ).fetchone()
    top = con.execute(
        f"""
        select reason, http_status, count(distinct uuid) from {failures}
        where destination = $name
        group by all order by 3 desc, 1 limit {int(reasons)}
        """,
        {"name": destination},
    ).fetchall()
    return count, [{"reason": reason, "http_status": status, "events": n} for reason, status, n in top]


_RUN_KEYS = ("run_id", "started_at", "finished_at", "outcome", "message", "pending", "delivered", "failed", "batches", "retry_failed")


def recent_runs(con: duckdb.DuckDBPyConnection, destination: str, limit: int) -> list[dict]:
    """The newest runs of a stream, newest first."""
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
        [destination, limit],
    ).fetchall()
    return [dict(zip(_RUN_KEYS, row, strict=True)) for row in rows]


_EXTRACT_KEYS = ("source", "windows", "first_window", "last_window", "records", "bad_lines", "empty_windows", "last_extracted_at")


def checkpointed_windows(con: duckdb.DuckDBPyConnection, source: str) -> set[tuple[str, str]]:
    """The (start, end) of every window `sync extract` landed (or found empty) for `source`."""
    rows = con.execute(
        "select window_start, window_end from sync.extract_checkpoints where source_system = ?", [source]
    ).fetchall()
    return {(start, end) for start, end in rows}


def checkpoint(con: duckdb.DuckDBPyConnection, source: str, window, path, load_id: int | None, records: int, bad: int) -> None:
    """A window is done: landed as `load_id` from `path`, or (path None) empty at the source."""
    con.execute(
        "insert or replace into sync.extract_checkpoints values (?, ?, ?, ?, ?, ?, ?, ?)",
        [source, window.start, window.end, str(path) if path else None, load_id, records, bad, utcnow()],
    )


def extract_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per source, the windows `sync extract` checkpointed."""
    if not relation_exists(con, "sync", "extract_checkpoints"):
        return []
    rows = con.execute(
        """
        select source_system, count(*), min(window_start), max(window_end), sum(records), sum(bad_lines),
               count(*) filter (where file_path is null), max(extracted_at)
        from sync.extract_checkpoints group by 1 order by 1
        """
    ).fetchall()
    return [dict(zip(_EXTRACT_KEYS, row, strict=True)) for row in rows]
