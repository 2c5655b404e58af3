"""The command line: help texts, entry points, status output."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.helpers import push_env


def test_every_command_explains_itself(cli):
    for command, phrase in [("load", "Land raw export files"), ("push", "oldest first"), ("status", "pending")]:
        result = cli(command, "--help")
        assert result.exit_code == 0 and phrase in result.output


def test_python_dash_m_and_console_script_work():
    result = subprocess.run([sys.executable, "-m", "sync", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "sync load mixpanel" in result.stdout


def test_unknown_source_is_refused(cli):
    result = cli("load", "kissmetrics", "x.jsonl")
    assert result.exit_code == 2 and "kissmetrics" in result.output


def test_status_before_anything_and_after_a_push(small_warehouse, capture, cli):
    before = json.loads(cli("status", "--json").output)
    assert before["events_in_mart"] == 6
    assert before["destinations"][0] | {} == {
        "destination": "posthog", "pending": 6, "held": 0, "delivered": 0, "failed": 0, "failed_reasons": [], "watermark": None,
        "runs": [], "last_run": None,
    }
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    after = json.loads(cli("status", "--json").output)["destinations"][0]
    assert (after["pending"], after["delivered"], after["failed"]) == (0, 6, 0)
    assert (after["watermark"]["settled_loads"], after["watermark"]["loads"]) == (1, 1)
    assert after["watermark"]["last_event_at"] == "2020-10-13T18:00:00Z"
    assert after["last_run"]["outcome"] == "completed" and after["last_run"]["delivered"] == 6
    text = cli("status").output
    assert "posthog: 0 pending, 6 delivered, 0 failed" in text and "completed" in text


def test_status_without_a_warehouse_is_one_line(warehouse, cli):
    result = cli("status")
    assert result.exit_code == 1
    assert result.output.strip() == f"error: no warehouse at {warehouse}: run `sync load` first (or set WAREHOUSE_PATH)"


def test_set_with_segment_is_refused_in_one_line(small_warehouse, cli):
    result = cli("push", "-d", "segment", "--persons", "--set", "--write-key", "k", "--host", "http://127.0.0.1:9")
    assert result.exit_code == 2, result.output
    assert "--set-once and --set are for `-d posthog` pushing persons" in result.output


def test_the_persons_dry_run_keeps_its_bodies_apart_from_the_events(small_warehouse, capture, cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert cli("push", "-d", "posthog", "--only", "events", "--dry-run", "--no-progress", env=push_env(capture)).exit_code == 0
    assert cli("push", "-d", "posthog", "--persons", "--dry-run", "--no-progress", env=push_env(capture)).exit_code == 0
    events = json.loads((tmp_path / "dry-run" / "posthog" / "request-00001.json").read_text())
    assert len(events["batch"]) == 6 and all(e["event"] != "$identify" for e in events["batch"])
    assert (tmp_path / "dry-run" / "posthog-persons").is_dir()


def test_status_during_a_push_shows_its_progress(small_warehouse, capture, cli):
    import os
    import time

    capture.state.latency_seconds = 0.5
    env = {**os.environ, **push_env(capture), "WAREHOUSE_PATH": str(small_warehouse)}
    pushing = subprocess.Popen([sys.executable, "-m", "sync", "push", "-d", "posthog", "--only", "events", "--batch-size", "1",
                                "--concurrency", "1", "--no-progress"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    progress = small_warehouse.with_name(small_warehouse.name + ".push.json")
    try:
        deadline = time.monotonic() + 20
        while not progress.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        status = cli("status")
        assert status.exit_code == 0, status.output
        assert f"a push to posthog is running (PID {pushing.pid}): " in status.output
        assert " of 6 events sent, " in status.output
        running = json.loads(cli("status", "--json").output)["running_push"]
        assert running["pid"] == pushing.pid and running["pending"] == 6
    finally:
        output, _ = pushing.communicate(timeout=60)
    assert pushing.returncode == 0, output
    assert not progress.exists()
    assert json.loads(cli("status", "--json").output)["destinations"][0]["delivered"] == 6
