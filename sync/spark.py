"""Apache Spark as the transform engine (`--target spark`).

Spark holds the raw tables and the models dbt builds (Parquet files under the Spark warehouse
folder, catalogued in its metastore); the DuckDB file keeps the push ledger. `sync` reaches
Spark in two ways only:

* landing: files are parsed exactly as for DuckDB (sync/load.py) into a scratch DuckDB file,
  and each new load is written into Spark's raw tables, one partition per load;
* reading: the tables dbt built are Parquet, which DuckDB reads in place (no JVM in a push).

pyspark is an optional extra (`make install-spark`); nothing here imports it at module level.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from sync.errors import WarehouseError

REPO = Path(__file__).resolve().parents[1]
# dbt's schema on the spark target (profiles.yml) and the raw tables' database
MODELS_SCHEMA = "backfill"
RAW_SCHEMA = "raw"


def home(warehouse: Path) -> Path:
    """The folder holding Spark's tables and catalog: $SPARK_WAREHOUSE_DIR, else beside the
    DuckDB file (profiles.yml's `spark` target computes the same)."""
    return Path(os.environ.get("SPARK_WAREHOUSE_DIR") or f"{warehouse}.spark")


def table_dir(warehouse: Path, schema: str, table: str) -> Path:
    """Where Spark keeps a managed table's Parquet files."""
    return home(warehouse).resolve() / "warehouse" / f"{schema}.db" / table


def parquet_glob(warehouse: Path, schema: str, table: str) -> str | None:
    """The Parquet files of a Spark table, for DuckDB's read_parquet; None when it has none."""
    folder = table_dir(warehouse, schema, table)
    if not folder.is_dir() or not any(folder.rglob("*.parquet")):
        return None
    return str(folder / "**" / "*.parquet")


def session(warehouse: Path):
    """A local Spark session on this warehouse's folder, set up as profiles.yml's `spark` target
    (the same catalog, warehouse folder, time zone and quiet logs)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError("--target spark needs pyspark and Java 17: run `make install-spark`") from None
    folder = home(warehouse).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    java_options = " ".join([
        f"-Dderby.system.home={folder}",
        f"-Dlog4j2.configurationFile={REPO / 'spark' / 'log4j2.properties'}",
        f"-Djava.io.tmpdir={folder / 'tmp'}",
        "-XX:TieredStopAtLevel=1",
    ])
    (folder / "tmp").mkdir(exist_ok=True)
    return (
        SparkSession.builder.appName("backfill-sync").enableHiveSupport()
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.driver.extraJavaOptions", java_options)
        .getOrCreate()
    )


def _active_session():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def spark_type(duckdb_type: str) -> str:
    kind = duckdb_type.upper()
    if kind in ("VARCHAR", "JSON") or kind.startswith("VARCHAR"):
        return "string"
    if kind in ("BIGINT", "INTEGER", "HUGEINT", "UBIGINT"):
        return "bigint"
    if kind.startswith("TIMESTAMP"):
        return "timestamp"
    if kind == "BOOLEAN":
        return "boolean"
    if kind == "DOUBLE":
        return "double"
    raise WarehouseError(f"no Spark type for DuckDB's {duckdb_type}")


def ensure_table(spark, con, schema: str, table: str, partition_by: str | None = None) -> None:
    """Create `schema.table` in Spark with the DuckDB table's columns (partition column last,
    as Spark stores it), if it is not there yet."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]
    ).fetchall()
    ordered = [c for c in columns if c[0] != partition_by] + [c for c in columns if c[0] == partition_by]
    body = ", ".join(f"`{name}` {spark_type(kind)}" for name, kind in ordered)
    partitioned = f" partitioned by (`{partition_by}`)" if partition_by else ""
    if not spark.catalog.databaseExists(schema):
        spark.sql(f"create database `{schema}`")
    spark.sql(f"create table if not exists `{schema}`.`{table}` ({body}) using parquet{partitioned}")


def write_rows(spark, con, schema: str, table: str, where: str, scratch: Path,
               partition_by: str | None = None, overwrite: bool = False, partitions: list[int] | None = None) -> int:
    """Copy the DuckDB rows of `schema.table` matching `where` into Spark's table of that name,
    through a Parquet file. With `partition_by`, the partitions the rows belong to are dropped
    first, so a retried load replaces its own partition and never doubles it; otherwise the
    rows are appended, or replace the whole table with `overwrite`. `partitions`: the values
    whose partitions are dropped (default: those of the rows written)."""
    ensure_table(spark, con, schema, table, partition_by)
    count = con.execute(f"select count(*) from {schema}.{table} where {where}").fetchone()[0]
    if partition_by:
        if partitions is None:
            partitions = [v for (v,) in con.execute(f"select distinct {partition_by} from {schema}.{table} where {where}").fetchall()]
        for value in partitions:
            spark.sql(f"alter table `{schema}`.`{table}` drop if exists partition (`{partition_by}` = {int(value)})")
    if not count:
        if overwrite:
            spark.sql(f"truncate table `{schema}`.`{table}`")
        return 0
    scratch.mkdir(parents=True, exist_ok=True)
    file = scratch / f"{schema}.{table}.parquet"
    con.execute(f"copy (select * from {schema}.{table} where {where}) to '{file}' (format parquet)")
    names = ", ".join(f"`{c}`" for c in spark.table(f"`{schema}`.`{table}`").columns)
    verb = "overwrite" if overwrite and not partition_by else "into"
    spark.sql(f"insert {verb} `{schema}`.`{table}` select {names} from parquet.`{file}`")
    file.unlink()
    return count


def _spark_has_table(spark, schema: str, table: str) -> bool:
    return spark.catalog.databaseExists(schema) and spark.catalog.tableExists(f"{schema}.{table}")


@contextmanager
def landing(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection to land files on exactly as `sync load` does for DuckDB, whose new
    loads are written into Spark's raw tables when the block ends.

    The scratch file starts with Spark's `raw.loads`, so a file landed before (same content,
    or same path, size and time) is skipped, and load ids continue Spark's. Each load goes to
    its own `load_id` partition of the raw table and of `raw.load_errors`; `raw.loads` gets
    its row last, so a load interrupted before that is landed again under the same id."""
    from sync.warehouse import open_warehouse

    running = _active_session()
    spark = running or session(warehouse)
    folder = home(warehouse).resolve()
    scratch_file = folder / "landing.duckdb"
    for stale in (scratch_file, Path(f"{scratch_file}.wal")):
        stale.unlink(missing_ok=True)
    con = open_warehouse(scratch_file)
    try:
        before = 0
        if _spark_has_table(spark, RAW_SCHEMA, "loads"):
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = 'loads' order by ordinal_position").fetchall()]
            rows = spark.sql(f"select {', '.join(columns)} from {RAW_SCHEMA}.loads").collect()
            con.executemany(f"insert into raw.loads ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                            [tuple(row) for row in rows])
            before = max((row.load_id for row in rows), default=0)
        con.execute("drop sequence raw.load_id_seq")
        con.execute(f"create sequence raw.load_id_seq start {before + 1}")
        yield con
    finally:
        try:
            _publish(spark, con, before, folder / "tmp")
        finally:
            con.close()
            if running is None:   # a session this process had before (dbt's, a test's) stays
                spark.stop()
            for stale in (scratch_file, Path(f"{scratch_file}.wal")):
                stale.unlink(missing_ok=True)


def _publish(spark, con, before: int, scratch: Path) -> None:
    # every source's raw table, empty until landed, as in a DuckDB warehouse: the models read them all
    for (table,) in con.execute("select table_name from information_schema.tables where table_schema = 'raw' "
                                "and table_type = 'BASE TABLE'").fetchall():
        ensure_table(spark, con, RAW_SCHEMA, table, None if table == "loads" else "load_id")
    new = f"load_id > {before}"
    if not con.execute(f"select count(*) from raw.loads where {new}").fetchone()[0]:
        return
    new_ids = [i for (i,) in con.execute(f"select load_id from raw.loads where {new}").fetchall()]
    tables = [t for (t,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' "
        "and table_type = 'BASE TABLE' and table_name <> 'loads'").fetchall()]
    for table in tables:
        if table == "load_errors" or con.execute(f"select count(*) from raw.{table} where {new}").fetchone()[0]:
            write_rows(spark, con, RAW_SCHEMA, table, new, scratch, partition_by="load_id", partitions=new_ids)
    write_rows(spark, con, RAW_SCHEMA, "loads", new, scratch)


def attach(warehouse: Path) -> None:
    """Make the DuckDB state file read what Spark built: a view over each Spark table's Parquet
    files, under the name dbt gives it on DuckDB (`raw.<table>`, `main.<model>`), then dbt's
    audit views over those and the ledger. Everything `sync` reads (push, status, report,
    sql) then works on Spark's tables with no JVM; the ledger stays in the DuckDB file."""
    from sync.warehouse import _relation_type, open_warehouse

    root = home(warehouse).resolve() / "warehouse"
    if not root.is_dir():
        raise WarehouseError(f"no Spark tables under {root}: land with `sync load --target spark`, "
                             "then `dbt build --target spark`")
    with open_warehouse(warehouse) as con:
        for schema, duck_schema in ((RAW_SCHEMA, "raw"), (MODELS_SCHEMA, "main")):
            folder = root / f"{schema}.db"
            for table in sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []:
                files = parquet_glob(warehouse, schema, table)
                if files is None:
                    continue   # an empty partitioned table: DuckDB's empty table of that name stands in
                if _relation_type(con, duck_schema, table) == "BASE TABLE":
                    rows = con.execute(f'select count(*) from {duck_schema}."{table}"').fetchone()[0]
                    if rows:
                        raise WarehouseError(
                            f"{warehouse} holds DuckDB's own {duck_schema}.{table} ({rows:,} rows): keep the state of "
                            "a Spark warehouse in a DuckDB file of its own (--warehouse or WAREHOUSE_PATH)")
                    con.execute(f'drop table {duck_schema}."{table}"')
                con.execute(f'create or replace view {duck_schema}."{table}" as select * from '
                            f"read_parquet('{files}', hive_partitioning = true, union_by_name = true)")
        missing = [v for v in AUDIT_VIEWS if _relation_type(con, "main", v) is None]
        built = all(_relation_type(con, "main", m) for m in AUDIT_INPUTS)
    if missing and built:
        _build_audit_views(warehouse)


AUDIT_VIEWS = ("sync_reconciliation", "sync_runs_summary", "sync_streams")
# the models the audit views read (before dbt build --target spark, there is nothing to audit)
AUDIT_INPUTS = ("int_events__validated", "stg_landing__bad_lines", "events", "events_duplicates",
                "persons", "identity_links", "groups")


def _build_audit_views(warehouse: Path) -> None:
    """dbt's audit models, built on the DuckDB target over the views `attach` made. In a process
    of its own: dbt-duckdb keeps its connection open, with its own settings, until its process
    ends, and `sync` opens the same file next."""
    import subprocess
    import sys

    dbt = Path(sys.executable).with_name("dbt")
    folder = home(warehouse).resolve() / "audit"
    result = subprocess.run(
        [str(dbt) if dbt.exists() else "dbt", "run", "--target", "dev", "--select", "path:models/audit", "--quiet",
         "--project-dir", str(REPO), "--profiles-dir", str(REPO)],
        # its own folders: the Spark build's run_results.json (which tests failed) stays
        env={**os.environ, "WAREHOUSE_PATH": str(warehouse), "DBT_TARGET_PATH": str(folder / "target"),
             "DBT_LOG_PATH": str(folder / "logs")},
        capture_output=True, text=True,
    )
    if result.returncode:
        detail = (result.stdout.strip().splitlines() or ["see " + str(folder / "logs")])[-1]
        raise WarehouseError(f"the audit views could not be built over Spark's tables: {detail}")
