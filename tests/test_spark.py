"""The same models on Apache Spark: every source's fixture exports landed and built on DuckDB and
on Spark (`sync load --target spark`, `dbt build --target spark`) give the same tables; dbt's unit
tests pass on Spark; a push from the Spark-built marts delivers what the DuckDB ones deliver.

One Spark session serves the whole module (Spark takes ~10 s to start): `sync` and dbt (through
dbtRunner) run in this process and find it. `make test` sets BACKFILL_REQUIRE_SPARK=1, so a
machine without pyspark fails here instead of skipping.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from sync import spark as spark_engine
from sync.cli import app
from tests.support.capture import CaptureServer, CaptureState
from tests.support.engines import COMPARED, differences, every_source
from tests.support.helpers import API_KEY, REPO, push_env, run_dbt

pytestmark = pytest.mark.spark


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("BACKFILL_REQUIRE_SPARK") == "1":
            pytest.fail("pyspark is not installed: run `make install-spark` (make test does)")
        pytest.skip("pyspark is not installed (make install-spark)")


@dataclass
class Engines:
    duckdb: Path          # the warehouse built on DuckDB
    spark: Path           # the DuckDB state file of the warehouse built on Spark
    exports: Path
    dbt_dirs: dict[str, str]

    def cli(self, *args: str, spark: bool = True, env: dict[str, str] | None = None):
        target = ["--target", "spark"] if spark else []
        warehouse = self.spark if spark else self.duckdb
        result = CliRunner().invoke(app, [*args[:1], *target, *args[1:]],
                                    env={"WAREHOUSE_PATH": str(warehouse), **(env or {})}, catch_exceptions=False)
        return result

    built: list[str] | None = None   # what the first `dbt build --target spark` failed on

    def dbt_spark(self, *args: str, check: bool = True) -> list[str]:
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke([*args, "--target", "spark", "--project-dir", str(REPO), "--profiles-dir", str(REPO)])
        nodes = getattr(result.result, "results", None) or []
        failed = [f"{r.node.name}: {r.status}: {(r.message or '')[:600]}" for r in nodes if str(r.status) in ("error", "fail")]
        if not result.success and not failed:
            failed = [str(result.exception)]
        assert failed == [] or not check, "\n".join(failed)
        return failed

    def dbt_duckdb(self, *args: str) -> None:
        result = run_dbt(self.duckdb, self.dbt_dirs, *args)
        assert result.returncode == 0, result.stdout[-3000:]

    def compare(self, models=COMPARED) -> dict[str, list[str]]:
        con = duckdb.connect()
        con.execute("set timezone = 'UTC'")
        con.execute(f"attach '{self.duckdb}' as duck (read_only)")
        found = {}
        for model in models:
            files = spark_engine.parquet_glob(self.spark, spark_engine.MODELS_SCHEMA, model)
            if files is None:
                found[model] = ["Spark has no table"]
                continue
            problems = differences(con, f"duck.main.{model}", f"read_parquet('{files}', union_by_name = true)")
            if problems:
                found[model] = problems
        return found


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    _require_pyspark()
    base = tmp_path_factory.mktemp("engines")
    dirs = {"DBT_TARGET_PATH": str(base / "target"), "DBT_LOG_PATH": str(base / "logs")}
    found = Engines(base / "duckdb" / "warehouse.duckdb", base / "spark" / "warehouse.duckdb", base / "exports", dirs)
    found.spark.parent.mkdir()
    found.duckdb.parent.mkdir()
    loads = every_source(found.exports)
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**dirs, "WAREHOUSE_PATH": str(found.spark), "SPARK_LOCAL_IP": "127.0.0.1"}.items():
            env.setenv(name, value)
        for source, paths in loads:
            assert (landed := found.cli("load", source, *paths, spark=False)).exit_code == 0, landed.output
        found.dbt_duckdb("build")
        session = spark_engine.session(found.spark)
        try:
            for source, paths in loads:
                assert (landed := found.cli("load", source, *paths)).exit_code == 0, landed.output
            found.built = found.dbt_spark("build", check=False)
            yield found
        finally:
            session.stop()


def test_spark_lands_the_same_raw_records_and_bad_lines_and_skips_what_it_has(engines):
    con = duckdb.connect()
    con.execute(f"attach '{engines.duckdb}' as duck (read_only)")
    for table in ("mixpanel_events", "amplitude_events", "segment_events", "ga4_events", "mixpanel_profiles", "shop_events", "load_errors", "loads"):
        files = spark_engine.parquet_glob(engines.spark, "raw", table)
        assert files, f"raw.{table} has no files in Spark"
        spark_side = f"read_parquet('{files}', hive_partitioning = true, union_by_name = true)"
        keep = "load_id, line_number, file_path, record" if table not in ("load_errors", "loads") else (
            "load_id, line_number, file_path, line, error" if table == "load_errors" else "load_id, source_system, content_sha256, records, bad_lines")
        ours = con.execute(f"select {keep} from duck.raw.{table} order by all").fetchall()
        theirs = con.execute(f"select {keep} from {spark_side} order by all").fetchall()
        assert ours == theirs, table
    again = engines.cli("load", "mixpanel", str(REPO / "tests" / "fixtures" / "mixpanel_small.jsonl"))
    assert again.exit_code == 0 and "0 files landed, 1 skipped" in again.output, again.output


def test_every_table_dbt_builds_is_the_same_on_both_engines(engines):
    assert engines.built == [], "\n".join(engines.built)
    assert engines.compare() == {}


def test_dbt_unit_tests_pass_on_spark(engines):
    engines.dbt_spark("test", "--select", "test_type:unit")


def test_a_rebuild_takes_in_nothing_and_a_new_load_is_taken_in_as_on_duckdb(engines):
    before = engines.compare(("events",))
    engines.dbt_spark("build")
    assert engines.compare() == before == {}
    more = engines.exports / "more.jsonl"
    more.write_text(
        '{"event": "Signed Up", "properties": {"time": 1700000000, "distinct_id": "late-1", "$insert_id": "late-a", "plan": "pro"}}\n'
        '{"event": "Signed Up", "properties": {"time": 1700000001, "distinct_id": "p-1", "$insert_id": "late-b", "$email": "zoe@new.example"}}\n'
        'not json\n', encoding="utf-8")
    for spark in (False, True):
        assert (landed := engines.cli("load", "mixpanel", str(more), spark=spark)).exit_code == 0, landed.output
    engines.dbt_duckdb("build")
    engines.dbt_spark("build")
    assert engines.compare() == {}


def _received(server) -> dict[str, dict]:
    return {event.get("uuid") or json.dumps(event, sort_keys=True): event for event in server.state.events}


def test_a_push_from_spark_delivers_exactly_what_a_push_from_duckdb_delivers(engines):
    servers = [CaptureServer(CaptureState(API_KEY)).start() for _ in range(2)]
    try:
        for server, spark in zip(servers, (False, True)):
            pushed = engines.cli("push", "-d", "posthog", spark=spark, env=push_env(server))
            assert pushed.exit_code == 0, pushed.output
        duck, spark = (_received(s) for s in servers)
        assert len(spark) == len(servers[1].state.events) > 0
        assert duck == spark
        again = engines.cli("push", "-d", "posthog", env=push_env(servers[1]))
        assert again.exit_code == 0 and len(servers[1].state.events) == len(spark), again.output
        status = engines.cli("status", "--json")
        assert status.exit_code == 0, status.output
        report = json.loads(status.output)
        assert report, status.output
        audit = "select * exclude (destination) from sync_reconciliation order by all"
        reconciliation = [engines.cli("sql", "--csv", audit, spark=spark) for spark in (False, True)]
        assert all(r.exit_code == 0 for r in reconciliation), reconciliation[1].output
        assert reconciliation[0].output == reconciliation[1].output
        totals = engines.cli("sql", "--csv", "select sum(pending), bool_and(reconciles) from sync_reconciliation")
        assert totals.output.splitlines()[1] == "0,True", totals.output
    finally:
        for server in servers:
            server.stop()
