"""`sync` knows whether the marts it reads are up to date: a landed load that no `dbt build`
has taken in yet is named, and a push stops when the last build failed tests on the marts it
sends (unless --force)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.helpers import FIXTURES, dbt_in, project_copy, push_env, query

LATE = [
    {"event": "Late", "properties": {"time": 1602700000, "distinct_id": "zoe", "$insert_id": "late-1"}},
    {"event": "Late", "properties": {"time": 1602700100, "distinct_id": "zoe", "$insert_id": "late-2"}},
]


def test_a_load_not_built_yet_is_named_and_the_push_does_not_look_finished(small_warehouse, tmp_path, capture, cli, dbt):
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    late = tmp_path / "late.jsonl"
    late.write_text("".join(json.dumps(record) + "\n" for record in LATE))
    assert cli("load", "mixpanel", str(late)).exit_code == 0

    line = f"load 2 (2 records, {late}) is not built: run dbt build"
    assert line in cli("status").output
    assert json.loads(cli("status", "--json").output)["unbuilt_loads"] == [
        {"load_id": 2, "records": 2, "file_path": str(late)}
    ]
    pushed = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert pushed.exit_code == 1
    assert line in pushed.output and "not in the marts yet (load 2): run dbt build" in pushed.output

    dbt("build")
    assert "not built" not in cli("status").output
    pushed = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert pushed.exit_code == 0 and "2 events delivered" in pushed.output, pushed.output


def test_a_push_stops_when_the_last_build_failed_a_test_on_the_events_mart(tmp_path, warehouse, capture, cli, monkeypatch):
    project = project_copy(tmp_path)
    (project / "tests" / "dbt" / "no_purchases.sql").write_text(
        "select * from {{ ref('events') }} where event = 'Purchase'\n"
    )
    subprocess.run([sys.executable, "-m", "sync", "load", "mixpanel", str(FIXTURES / "mixpanel_small.jsonl")],
                   env={**os.environ, "WAREHOUSE_PATH": str(warehouse)}, check=True, capture_output=True)
    assert dbt_in(project, warehouse, "build", check=False).returncode == 1
    monkeypatch.setenv("DBT_TARGET_PATH", str(project / "target"))

    assert "last dbt build: test no_purchases failed (1 row)" in cli("status").output
    refused = cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture))
    assert refused.exit_code == 1, refused.output
    assert "the last dbt build failed on what would be sent: test no_purchases failed (1 row)" in refused.output
    assert capture.state.requests == [] and query(warehouse, "select count(*) from sync.runs") == [(0,)]

    forced = cli("push", "-d", "posthog", "--only", "events", "--force", "--no-progress", env=push_env(capture))
    assert forced.exit_code == 0 and "6 events delivered" in forced.output, forced.output

    (project / "tests" / "dbt" / "no_purchases.sql").unlink()
    dbt_in(project, warehouse, "build")
    assert "last dbt build" not in cli("status").output
