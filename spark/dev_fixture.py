"""Development loop for the Spark target: the fixture exports of every source, landed and built on
DuckDB, then the same raw tables and seeds in Spark, and a model-by-model comparison.

    python spark/dev_fixture.py build DIR         # DIR/warehouse.duckdb: sync load every source + dbt build
    python spark/dev_fixture.py to-spark DIR      # DIR/warehouse.duckdb.spark: raw.* and seeds copied into Spark
    dbt build --target spark ...                  # with WAREHOUSE_PATH=DIR/warehouse.duckdb
    python spark/dev_fixture.py compare DIR [MODEL ...]   # DuckDB's tables against Spark's, canonicalised

Run from the repository root (or a worktree's root) with the Spark venv's python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from sync import spark as spark_engine  # noqa: E402

PROFILES = """[
  {"$distinct_id": "p-1", "$properties": {"$name": "Zoë", "$email": "zoe@example.com", "plan": "pro", "$last_seen": "2023-01-05T10:00:00"}},
  {"$distinct_id": "p-2", "$properties": {"plan": "free", "seats": 3, "tags": ["a", "b"]}}
]"""


def sh(*args: str, env: dict | None = None) -> None:
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def build(folder: Path) -> None:
    from tests.support.people import all_exports
    from tests.support.source_exports import amplitude_zip, ga4_exports, segment_archive

    folder.mkdir(parents=True, exist_ok=True)
    exports = folder / "exports"
    exports.mkdir(exist_ok=True)
    env = {"WAREHOUSE_PATH": str(folder / "warehouse.duckdb")}
    (exports / "people").mkdir(exist_ok=True)
    people = all_exports(exports / "people")
    ndjson, parquet = ga4_exports(exports)
    profiles = exports / "profiles.json"
    profiles.write_text(PROFILES, encoding="utf-8")
    loads = [
        ("mixpanel", [str(ROOT / "tests/fixtures/mixpanel_small.jsonl"), str(people["mixpanel"])]),
        ("amplitude", [str(amplitude_zip(exports)), str(people["amplitude"])]),
        ("segment", [str(segment_archive(exports)), str(people["segment"])]),
        ("ga4", [str(ndjson), str(parquet), str(people["ga4"])]),
        ("mixpanel-profiles", [str(profiles)]),
    ]
    python = sys.executable
    for source, paths in loads:
        sh(python, "-m", "sync", "load", source, *paths, env=env)
    sh(python, "-m", "sync", "load", "table", "shop_events", str(ROOT / "examples/shop_events.csv"), env=env)
    sh(str(Path(python).with_name("dbt")), "build", env=env)
    print(f"built {folder / 'warehouse.duckdb'}")


def to_spark(folder: Path) -> None:
    warehouse = folder / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    spark = spark_engine.session(warehouse)
    scratch = spark_engine.home(warehouse) / "tmp"
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and (table_schema = 'raw' or table_name in "
        f"({', '.join(repr(p.stem) for p in (ROOT / 'seeds').glob('*.csv'))}))"
    ).fetchall()
    for schema, table in tables:
        target = "raw" if schema == "raw" else spark_engine.MODELS_SCHEMA
        spark.sql(f"drop table if exists `{target}`.`{table}`")
        partition = "load_id" if schema == "raw" and table != "loads" else None
        source = con if target == schema else _alias(con, schema, target, table)
        n = spark_engine.write_rows(spark, source, target, table, "true", scratch, partition, overwrite=True)
        print(f"{target}.{table}: {n} rows")
    spark.stop()


def _alias(con, schema: str, target: str, table: str):
    """A connection where `target.table` names DuckDB's `schema.table` (seeds live in main)."""
    mem = duckdb.connect()
    mem.execute(f"attach '{con.execute('select path from duckdb_databases() where database_name = current_database()').fetchone()[0]}' as wh (read_only)")
    mem.execute(f"create schema {target}")
    mem.execute(f"create table {target}.{table} as select * from wh.{schema}.{table}")
    return mem


def canonical(value):
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return json.dumps([canonical(v) for v in value], sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, dict):
        return json.dumps({k: canonical(v) for k, v in value.items()}, sort_keys=True, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):
        return value.replace(tzinfo=None).isoformat() if hasattr(value, "tzinfo") and value.tzinfo else value.isoformat()
    return value


def compare(folder: Path, models: list[str]) -> int:
    warehouse = folder / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("set timezone = 'UTC'")
    if not models:
        models = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
    failures = 0
    exported = _export_views(warehouse, [m for m in models if spark_engine.parquet_glob(warehouse, spark_engine.MODELS_SCHEMA, m) is None])
    for model in models:
        files = exported.get(model) or spark_engine.parquet_glob(warehouse, spark_engine.MODELS_SCHEMA, model)
        if files is None:
            print(f"{model}: no Spark table")
            failures += 1
            continue
        duck_cols = [c for (c,) in con.execute(f"select column_name from information_schema.columns where table_schema='main' and table_name='{model}' order by ordinal_position").fetchall()]
        spark_cols = [c for (c,) in con.execute(f"select column_name from (describe select * from read_parquet('{files}'))").fetchall()]
        if sorted(duck_cols) != sorted(c for c in spark_cols if c in duck_cols or c not in ('load_id',)):
            print(f"{model}: columns differ\n  duckdb {duck_cols}\n  spark  {spark_cols}")
        cols = [c for c in duck_cols if c in spark_cols and c != 'build_id']   # build_id: each build's own
        select = ", ".join(f'"{c}"' for c in cols)
        ours = sorted((tuple(canonical(v) for v in row) for row in con.execute(f"select {select} from main.{model}").fetchall()), key=repr)
        theirs = sorted((tuple(canonical(v) for v in row) for row in con.execute(f"select {select} from read_parquet('{files}')").fetchall()), key=repr)
        if ours == theirs:
            print(f"{model}: {len(ours)} rows equal")
            continue
        failures += 1
        only_duck = [r for r in ours if r not in theirs][:3]
        only_spark = [r for r in theirs if r not in ours][:3]
        print(f"{model}: DIFFERENT ({len(ours)} duckdb rows, {len(theirs)} spark rows)")
        for name, rows in (("duckdb only", only_duck), ("spark only", only_spark)):
            for row in rows:
                print(f"  {name}: " + ", ".join(f"{c}={v!r}" for c, v in zip(cols, row))[:1500])
    return failures


def _export_views(warehouse: Path, models: list[str]) -> dict[str, str]:
    """Spark views (staging models) have no files: write their rows to Parquet to compare."""
    if not models:
        return {}
    spark = spark_engine.session(warehouse)
    out, files = spark_engine.home(warehouse) / "compare", {}
    names = {r.tableName for r in spark.sql(f"show tables in {spark_engine.MODELS_SCHEMA}").collect()}
    for model in models:
        if model in names:
            spark.table(f"{spark_engine.MODELS_SCHEMA}.{model}").write.mode("overwrite").parquet(str(out / model))
            files[model] = str(out / model / "*.parquet")
    spark.stop()
    return files


if __name__ == "__main__":
    command, folder, *rest = sys.argv[1:]
    folder = Path(folder).resolve()
    if command == "build":
        build(folder)
    elif command == "to-spark":
        to_spark(folder)
    elif command == "compare":
        sys.exit(1 if compare(folder, rest) else 0)
    else:
        sys.exit(__doc__)
