"""Development loop for the Spark target: every source's fixture exports landed and built on
DuckDB, the same raw tables and seeds copied into Spark, and a model-by-model comparison.

    python spark/dev_fixture.py build DIR         # DIR/warehouse.duckdb: sync load every source + dbt build
    python spark/dev_fixture.py to-spark DIR      # DIR/warehouse.duckdb.spark: raw.* and seeds copied into Spark
    WAREHOUSE_PATH=DIR/warehouse.duckdb dbt build --target spark --select ...
    python spark/dev_fixture.py compare DIR [MODEL ...]   # DuckDB's tables against Spark's, canonicalised

Run from the repository root with the venv that has pyspark (make install-spark). tests/test_spark.py
is the same comparison, landing through `sync load --target spark` instead of copying.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from sync import spark as spark_engine  # noqa: E402
from tests.support.engines import COMPARED, differences, every_source  # noqa: E402


def build(folder: Path) -> None:
    env = {**os.environ, "WAREHOUSE_PATH": str(folder / "warehouse.duckdb")}
    bin_dir = Path(sys.executable).parent
    for source, paths in every_source(folder / "exports"):
        subprocess.run([str(bin_dir / "sync"), "load", source, *paths], env=env, check=True)
    subprocess.run([str(bin_dir / "dbt"), "build"], cwd=ROOT, env=env, check=True)


def to_spark(folder: Path) -> None:
    """Spark's raw tables and seeds as DuckDB has them (the seeds from main, where dbt put them)."""
    warehouse = folder / "warehouse.duckdb"
    seeds = ", ".join(repr(p.stem) for p in (ROOT / "seeds").glob("*.csv"))
    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    con.execute("create schema raw; create schema backfill")
    for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = 'wh' "
        f"and table_type = 'BASE TABLE' and (table_schema = 'raw' or table_name in ({seeds}))"
    ).fetchall():
        target = "raw" if schema == "raw" else spark_engine.MODELS_SCHEMA
        con.execute(f'create table {target}."{table}" as select * from wh.{schema}."{table}"')
    spark = spark_engine.session(warehouse)
    scratch = spark_engine.home(warehouse) / "tmp"
    for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = 'memory'").fetchall():
        spark.sql(f"drop table if exists `{schema}`.`{table}`")
        partition = "load_id" if schema == "raw" and table != "loads" else None
        count = spark_engine.write_rows(spark, con, schema, table, "true", scratch, partition, overwrite=True)
        print(f"{schema}.{table}: {count} rows")
    spark.stop()


def compare(folder: Path, models: list[str]) -> int:
    warehouse = folder / "warehouse.duckdb"
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(f"attach '{warehouse}' as duck (read_only)")
    failures = 0
    for model in models or COMPARED:
        files = spark_engine.parquet_glob(warehouse, spark_engine.MODELS_SCHEMA, model)
        problems = ["Spark has no table"] if files is None else differences(
            con, f"duck.main.{model}", f"read_parquet('{files}', union_by_name = true)")
        failures += bool(problems)
        print(f"{model}: " + ("equal" if not problems else "\n  ".join(["DIFFERENT", *problems])))
    return failures


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("build", "to-spark", "compare"):
        sys.exit(__doc__)
    command, folder = sys.argv[1], Path(sys.argv[2]).resolve()
    if command == "build":
        build(folder)
    elif command == "to-spark":
        to_spark(folder)
    else:
        sys.exit(1 if compare(folder, sys.argv[3:]) else 0)
