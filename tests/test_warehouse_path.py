"""A warehouse path that cannot hold a warehouse is refused in one line, before anything is
read or written, and a push without a warehouse creates nothing."""

from __future__ import annotations

from tests.support.helpers import FIXTURES, push_env, query, run_dbt

SMALL = str(FIXTURES / "mixpanel_small.jsonl")


def test_a_csv_given_as_the_warehouse_is_refused_and_left_as_it_was(tmp_path, cli):
    csv = tmp_path / "events.csv"
    csv.write_text("event,distinct_id\na,u1\n")
    for args in (("load", "mixpanel", SMALL), ("status",), ("report", "--out", str(tmp_path / "r.html"))):
        result = cli(*args, "--warehouse", str(csv))
        assert result.exit_code == 1, (args, result.output)
        assert result.output.strip() == (
            f"error: {csv} is not a DuckDB warehouse: point --warehouse (or WAREHOUSE_PATH) at a .duckdb file"
        ), args
    assert csv.read_text() == "event,distinct_id\na,u1\n"


def test_a_warehouse_duckdb_would_keep_in_memory_is_refused_before_landing(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("load", "mixpanel", SMALL, "--warehouse", ":memory:")
    assert result.exit_code == 1
    assert result.output.strip() == "error: cannot keep a warehouse in :memory:: DuckDB would not save it; use a .duckdb file name"
    assert list(tmp_path.iterdir()) == []


def test_a_push_without_a_warehouse_creates_nothing(warehouse, capture, cli):
    result = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1
    assert result.output.strip() == f"error: no warehouse at {warehouse}: run `sync load` first (or set WAREHOUSE_PATH)"
    assert not warehouse.exists() and list(warehouse.parent.iterdir()) == []


def test_a_warehouse_named_main_lands_builds_and_pushes(tmp_path, dbt_dirs, capture, cli):
    """DuckDB would name main.duckdb's catalog main_db, which dbt-duckdb does not expect: dbt
    attaches the file as `warehouse` whatever its name, so every step works on it."""
    warehouse = tmp_path / "main.duckdb"
    env = {"WAREHOUSE_PATH": str(warehouse), **push_env(capture)}
    assert cli("load", "mixpanel", SMALL, env=env).exit_code == 0
    built = run_dbt(warehouse, dbt_dirs, "build")
    assert built.returncode == 0, built.stdout[-3000:]
    (events,) = query(warehouse, "select count(*) from main.events")[0]
    assert events > 0
    pushed = cli("push", "-d", "posthog", "--only", "events", "--no-progress", "--allow-recent", env=env)
    assert pushed.exit_code == 0, pushed.output
    assert len(capture.state.events) == events
    # the views dbt made name the catalog as DuckDB itself does when it opens the file
    assert query(warehouse, "select current_database()") == [("main_db",)]
    assert query(warehouse, "select sum(delivered) from main.sync_reconciliation") == [(events,)]
