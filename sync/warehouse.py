"""The DuckDB warehouse: opening it (one clear line for every way that fails) and its schemas.

Who reads and writes what, each question asked in one place:
- `sync.load` writes `raw` (one table per source of sync.sources, plus loads and bad lines);
- `sync.ledger` reads and writes `sync` (runs, batches, deliveries, failures, settled loads,
  watermarks, extract checkpoints);
- `sync.push.reader` reads the marts through the ledger's selections; `sync.build_state`
  reads what dbt recorded of its builds.

Schemas:
- `raw`: what `sync load` lands, untouched (one table per source, plus loads and bad lines).
- `sync`: the push ledger (runs, batches, per-event deliveries, failures, watermarks).
- `main`: dbt's models; `sync` only reads the `events` mart.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from sync.errors import WarehouseError
from sync.sources import raw_tables

_RAW_DDL = """
create schema if not exists raw;
create sequence if not exists raw.load_id_seq start 1;
create table if not exists raw.loads (
    load_id bigint primary key,
    source_system varchar not null,
    file_path varchar not null,
    content_sha256 varchar not null,
    file_bytes bigint not null,
    records bigint not null,
    bad_lines bigint not null,
    loaded_at timestamp not null
);
create table if not exists raw.load_errors (
    load_id bigint not null,
    source_system varchar not null,
    file_path varchar not null,
    line_number bigint not null,
    line varchar,
    error varchar not null,
    loaded_at timestamp not null
);
"""

RAW_SOURCE_DDL = """
create table if not exists raw.{table} (
    load_id bigint not null,
    line_number bigint not null,
    file_path varchar not null,
    loaded_at timestamp not null,
    record varchar not null      -- the record's JSON text, checked when landed (a JSON object)
);
"""

_SYNC_DDL = """
create schema if not exists sync;
create table if not exists sync.runs (
    run_id varchar primary key,
    destination varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    outcome varchar not null,          -- running | completed | failed | interrupted
    message varchar,
    events_pending bigint,
    events_delivered bigint not null default 0,
    events_failed bigint not null default 0,
    batches bigint not null default 0
);
alter table sync.runs add column if not exists retry_failed boolean default false;  -- a --retry-failed run
create table if not exists sync.batches (
    batch_id varchar primary key,
    run_id varchar not null,
    destination varchar not null,
    batch_number integer not null,
    events bigint not null,
    body_bytes bigint not null,        -- JSON size before gzip
    first_event_at timestamp,
    last_event_at timestamp,
    status varchar not null,           -- accepted | rejected
    http_status integer,
    attempts integer not null,
    response varchar,                  -- the server's answer, truncated
    sent_at timestamp not null,
    answered_at timestamp not null
);
create table if not exists sync.delivered_uuids (   -- the events each accepted batch carried
    batch_id varchar not null,
    uuid varchar not null
);
create table if not exists sync.failed_events (
    destination varchar not null,
    uuid varchar not null,
    run_id varchar not null,
    batch_id varchar,
    http_status integer,
    reason varchar not null,
    message varchar,
    failed_at timestamp not null
);
create table if not exists sync.extract_checkpoints (
    source_system varchar not null,
    window_start varchar not null,           -- as the API took it: 2024-01-31, or 20240131T00
    window_end varchar not null,
    file_path varchar,                       -- the stored response; null when the window was empty
    load_id bigint,                          -- the load that holds it (or that held the same bytes before)
    records bigint not null,
    bad_lines bigint not null,
    extracted_at timestamp not null,
    primary key (source_system, window_start, window_end)
);
create table if not exists sync.watermarks (
    destination varchar primary key,
    loaded_through_load_id bigint not null,  -- the newest load settled so far (see settled_loads)
    last_event_at timestamp,                 -- newest event timestamp accepted so far
    updated_at timestamp not null
);
create table if not exists sync.settled_loads (  -- loads with nothing pending, as the mart held them
    destination varchar not null,
    load_id bigint not null,
    build_id varchar not null,               -- the one dbt build that wrote all of the load's rows
    events bigint not null,                  -- how many rows the load had in the mart
    settled_at timestamp not null,
    primary key (destination, load_id)
);
"""

_LOCK_RE = re.compile(r"lock on file \"?([^\":]+)\"?.*?\(PID (\d+)\)", re.S)


def utcnow() -> datetime:
    """Naive UTC: every `_at` column in the warehouse is UTC without a zone."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, turning DuckDB's lock and I/O errors into one clear line."""
    if read_only:
        require_warehouse(path)
    if path.is_dir():
        raise WarehouseError(f"warehouse {path} is a folder: give a DuckDB file, e.g. {path / 'warehouse.duckdb'}")
    if path.exists() and path.stat().st_size > 0 and not _is_duckdb_file(path):
        raise WarehouseError(f"{path} is not a DuckDB warehouse: point --warehouse (or WAREHOUSE_PATH) at a .duckdb file")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        match = _LOCK_RE.search(message)
        if match or "lock" in message.lower():
            pid = f" (PID {match.group(2)})" if match else ""
            raise WarehouseError(
                f"warehouse {path} is locked by another process{pid}, such as a running "
                "`dbt build` or `sync`; DuckDB allows one writer at a time: wait for it to finish and retry"
            ) from None
        raise WarehouseError(f"cannot open warehouse {path}: {message.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from None
    if con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0] is None:
        # DuckDB opens some names (a .csv, a .parquet) as an in-memory database: nothing would be saved
        con.close()
        raise WarehouseError(f"cannot keep a warehouse in {path}: DuckDB would not save it; use a .duckdb file name")
    con.execute("set enable_progress_bar = false")  # our own progress goes to stderr, not DuckDB's
    con.execute(NO_ROW_GROUP_MERGING)
    return con


def require_warehouse(path: Path) -> None:
    """For the commands that read a warehouse: it must be there (they create nothing)."""
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `sync load` first (or set WAREHOUSE_PATH)")


def _is_duckdb_file(path: Path) -> bool:
    """A DuckDB database file has the magic bytes DUCK at offset 8."""
    try:
        with path.open("rb") as handle:
            return handle.read(12)[8:12] == b"DUCK"
    except OSError:
        return True   # let DuckDB say what is wrong with it


# Every load and every incremental build appends its rows in its own transaction, which ends in
# a part-filled row group. DuckDB's checkpoint merges such row groups by rewriting them, a few at
# a time, in whichever process checkpoints next: a cost that grows with the warehouse (29 s for
# the first checkpoint after landing 10 M lines) and is paid again and again by unrelated
# commands. The warehouse is append-mostly, so part-filled row groups are kept as they are;
# profiles.yml sets the same for dbt.
NO_ROW_GROUP_MERGING = "set max_vacuum_tasks = 0"


# One row per delivered event, with its batch's destination, run and answer time. A view: the
# ledger writes only (batch_id, uuid) per event, the rest is already on the batch's row.
_DELIVERIES_VIEW = """
create view if not exists sync.deliveries as
select b.destination, d.uuid, b.run_id, d.batch_id, b.answered_at as delivered_at
from sync.delivered_uuids as d
inner join sync.batches as b on b.batch_id = d.batch_id
"""

# The refusals that still stand: failed events a destination has not accepted since (a
# --retry-failed delivery ends one). `sync status`, `sync report` and dbt's sync_reconciliation
# all count failures from this one view.
_UNDELIVERED_FAILURES_VIEW = """
create {temp} view if not exists {schema}undelivered_failures as
select f.* from sync.failed_events as f
where not exists (select 1 from sync.deliveries as d where d.destination = f.destination and d.uuid = f.uuid)
"""

# Warehouses made before the view kept every column on each delivery row.
_DELIVERIES_MIGRATION = [
    "insert into sync.delivered_uuids select batch_id, uuid from sync.deliveries",
    "drop table sync.deliveries",
]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw landing and sync ledger tables if they do not exist yet."""
    con.execute(_RAW_DDL)
    if _relation_type(con, "raw", "loads") == "BASE TABLE":   # a view: Spark's loads (sync/spark.py)
        # the file's modification time when landed: an unchanged file (same path, size and
        # time) is known as landed without reading it again
        con.execute("alter table raw.loads add column if not exists file_modified_ns bigint")
    for table in raw_tables():   # one per source (sync.sources), each row one record as exported
        con.execute(RAW_SOURCE_DDL.format(table=table))
    con.execute(_SYNC_DDL)
    if _relation_type(con, "sync", "deliveries") == "BASE TABLE":
        con.execute("begin transaction")
        try:
            for statement in _DELIVERIES_MIGRATION:
                con.execute(statement)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    con.execute(_DELIVERIES_VIEW)
    con.execute(_UNDELIVERED_FAILURES_VIEW.format(temp="", schema="sync."))


def ledger_views(con: duckdb.DuckDBPyConnection) -> str:
    """The name to read the standing refusals from. A ledger written by an older `sync` has
    no such view yet, and a read-only connection cannot add it: it gets a temporary one."""
    if relation_exists(con, "sync", "undelivered_failures"):
        return "sync.undelivered_failures"
    con.execute(_UNDELIVERED_FAILURES_VIEW.format(temp="temporary", schema=""))
    return "undelivered_failures"


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(path)
    ensure_schema(con)
    return con


def _relation_type(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    """'BASE TABLE', 'VIEW', or None if the open warehouse (not another attached database)
    has no such relation."""
    row = con.execute(
        """
        select 'BASE TABLE' from duckdb_tables()
        where database_name = current_database() and schema_name = $schema and table_name = $name
        union all
        select 'VIEW' from duckdb_views()
        where database_name = current_database() and schema_name = $schema and view_name = $name
        """,
        {"schema": schema, "name": name},
    ).fetchone()
    return row[0] if row else None


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return _relation_type(con, schema, name) is not None


def require_mart(con: duckdb.DuckDBPyConnection, name: str = "events") -> None:
    if not relation_exists(con, "main", name):
        raise WarehouseError(f"the warehouse has no `{name}` mart yet: run `dbt build` first")
