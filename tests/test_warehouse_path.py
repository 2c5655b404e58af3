"""A warehouse path that cannot hold a warehouse is refused in one line, before anything is
read or written, and a push without a warehouse creates nothing."""

from __future__ import annotations

from conftest import FIXTURES, dbt_in, project_copy, push_env, query

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


def test_a_name_duckdb_would_not_save_is_refused_before_landing(tmp_path, cli):
    target = tmp_path / "landed.csv"
    result = cli("load", "mixpanel", SMALL, "--warehouse", str(target))
    assert result.exit_code == 1
    assert "DuckDB would not save it; use a .duckdb file name" in result.output
    assert "files landed" not in result.output and not target.exists()


def test_a_push_without_a_warehouse_creates_nothing(warehouse, capture, cli):
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1
    assert result.output.strip() == f"error: no warehouse at {warehouse}: run `sync load` first (or set WAREHOUSE_PATH)"
    assert not warehouse.exists() and list(warehouse.parent.iterdir()) == []


def test_a_warehouse_named_main_builds_and_pushes(tmp_path, capture, cli, monkeypatch):
    warehouse = tmp_path / "main.duckdb"
    monkeypatch.setenv("WAREHOUSE_PATH", str(warehouse))
    assert cli("load", "mixpanel", SMALL).exit_code == 0
    dbt_in(project_copy(tmp_path), warehouse, "build")
    assert query(warehouse, "select count(*) from main.events") == [(6,)]
    pushed = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert pushed.exit_code == 0 and "6 events delivered" in pushed.output, pushed.output
