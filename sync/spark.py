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
from pathlib import Path

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
               partition_by: str | None = None, overwrite: bool = False) -> int:
    """Copy the DuckDB rows of `schema.table` matching `where` into Spark's table of that name,
    through a Parquet file. With `partition_by`, the partitions written are replaced (a retried
    load rewrites its own partition, never doubles it); otherwise rows are appended, or the
    whole table replaced with `overwrite`."""
    ensure_table(spark, con, schema, table, partition_by)
    file = scratch / f"{schema}.{table}.parquet"
    count = con.execute(f"select count(*) from {schema}.{table} where {where}").fetchone()[0]
    if not count and not overwrite:
        return 0
    con.execute(f"copy (select * from {schema}.{table} where {where}) to '{file}' (format parquet)")
    names = [f"`{c}`" for c in spark.table(f"`{schema}`.`{table}`").columns]
    verb = "overwrite" if (partition_by or overwrite) else "into"
    partition = f" partition (`{partition_by}`)" if partition_by else ""
    spark.sql(f"insert {verb} `{schema}`.`{table}`{partition} select {', '.join(names)} from parquet.`{file}`")
    file.unlink()
    return count
