"""`sync extract` against local Mixpanel- and Amplitude-compatible export endpoints with faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support.helpers import query
from tests.support.export_servers import ExportServer, amplitude_events, mixpanel_events

FAST = ["--max-requests-per-hour", "1000000"]


@pytest.fixture
def mixpanel_env():
    def make(server: ExportServer, account: str = "svc:s3cret") -> dict[str, str]:
        return {"MIXPANEL_SERVICE_ACCOUNT": account, "MIXPANEL_PROJECT_ID": "42"}
    return make


def extract_mixpanel(cli, server, env, *extra):
    return cli("extract", "mixpanel", "--from", "2024-02-27", "--to", "2024-03-01", "--api-host", server.url,
               "--out-dir", str(extra[0]), *FAST, *extra[1:], env=env)


def test_mixpanel_days_land_once_through_faults_and_reruns_skip(warehouse, tmp_path, cli, mixpanel_env):
    events = mixpanel_events(days=4, per_day=5)
    server = ExportServer("svc", "s3cret", events).start()
    try:
        server.faults.extend([(429, {"Retry-After": "0"}), (503,), ("drop",)])
        result = extract_mixpanel(cli, server, mixpanel_env(server), tmp_path / "out")
        assert result.exit_code == 0, result.output
        # one request per day, from_date = to_date (both inclusive): no day is fetched twice
        asked = [(r["from_date"], r["to_date"]) for r in server.requests]
        assert sorted(set(asked)) == [(d, d) for d in ("2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01")]
        assert len(asked) == 4 + 3 and all(r["project_id"] == "42" for r in server.requests)
        insert_ids = query(warehouse, "select record->>'$.properties.\"$insert_id\"' from raw.mixpanel_events")
        assert sorted(i for (i,) in insert_ids) == sorted(e["properties"]["$insert_id"] for e in events)
        assert query(warehouse, "select count(*), sum(records) from sync.extract_checkpoints where source_system = 'mixpanel'") == [(4, 20)]
        assert len(list((tmp_path / "out").glob("*.jsonl.gz"))) == 4 and not list((tmp_path / "out").glob("*.partial"))
        status = cli("status").output
        assert "extract mixpanel: 4 windows checkpointed (2024-02-27 .. 2024-03-01), 20 records" in status

        before = len(server.requests)
        again = extract_mixpanel(cli, server, mixpanel_env(server), tmp_path / "out")
        assert again.exit_code == 0 and "4 already checkpointed" in again.output and len(server.requests) == before
        forced = extract_mixpanel(cli, server, mixpanel_env(server), tmp_path / "out", "--force")
        assert forced.exit_code == 0 and len(server.requests) == before + 4
        assert query(warehouse, "select count(*) from raw.mixpanel_events") == [(20,)]   # same bytes: not landed twice
    finally:
        server.stop()


def test_bad_credentials_stop_cleanly_with_checkpoints_kept(warehouse, tmp_path, cli, mixpanel_env):
    server = ExportServer("svc", "s3cret", mixpanel_events(days=4, per_day=3)).start()
    try:
        server.faults.extend([("ok",), ("ok",), (401,)])   # credentials revoked during the run
        result = extract_mixpanel(cli, server, mixpanel_env(server), tmp_path / "out")
        assert result.exit_code == 1 and "stopped after 2 of 4 windows" in result.output
        assert "answered 401 for 2024-02-29" in result.output
        assert query(warehouse, "select window_start from sync.extract_checkpoints order by 1") == [("2024-02-27",), ("2024-02-28",)]
        server.requests.clear()
        result = extract_mixpanel(cli, server, mixpanel_env(server, "svc:wrong-secret-xyz"), tmp_path / "out")
        assert result.exit_code == 1
        assert "$MIXPANEL_SERVICE_ACCOUNT" in result.output and "wrong-secret-xyz" not in result.output
        assert len(server.requests) == 1   # not retried
        assert query(warehouse, "select count(*) from sync.extract_checkpoints") == [(2,)]
        fixed = extract_mixpanel(cli, server, mixpanel_env(server), tmp_path / "out")
        assert fixed.exit_code == 0 and query(warehouse, "select count(*) from raw.mixpanel_events") == [(12,)]
    finally:
        server.stop()


def test_kill_mid_extract_then_resume_lands_every_event_once(warehouse, tmp_path, mixpanel_env):
    events = mixpanel_events(days=6, per_day=4)
    server = ExportServer("svc", "s3cret", events, latency=0.3).start()
    env = {**os.environ, **mixpanel_env(server), "WAREHOUSE_PATH": str(warehouse)}
    command = [sys.executable, "-m", "sync", "extract", "mixpanel", "--from", "2024-02-27", "--to", "2024-03-03",
               "--api-host", server.url, "--out-dir", str(tmp_path / "out"), *FAST]
    try:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        landed = 0
        for line in child.stdout:
            landed += line.startswith("landed")
            if landed == 2:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "already checkpointed" in resumed.stdout
        ids = [i for (i,) in query(warehouse, "select record->>'$.properties.\"$insert_id\"' from raw.mixpanel_events")]
        assert len(ids) == len(set(ids)) == len(events)   # every event exactly once
        assert query(warehouse, "select count(*) from sync.extract_checkpoints") == [(6,)]
    finally:
        server.stop()


def test_amplitude_daily_windows_zip_landed_404_is_empty(warehouse, tmp_path, cli):
    hours = ["2024-03-01 00", "2024-03-01 23", "2024-03-03 05"]
    events = amplitude_events(hours, per_hour=3)
    server = ExportServer("akey", "asecret", events).start()
    env = {"AMPLITUDE_API_KEY": "akey", "AMPLITUDE_SECRET_KEY": "asecret"}
    try:
        server.faults.append(("drop",))
        result = cli("extract", "amplitude", "--from", "20240301T00", "--to", "20240303T23", "--api-host", server.url,
                     "--out-dir", str(tmp_path / "amp"), *FAST, env=env)
        assert result.exit_code == 0, result.output
        windows = sorted({(r["start"], r["end"]) for r in server.requests})
        assert windows == [("20240301T00", "20240301T23"), ("20240302T00", "20240302T23"), ("20240303T00", "20240303T23")]
        assert "empty    amplitude 20240302T00..20240302T23" in result.output
        uuids = [u for (u,) in query(warehouse, "select record->>'$.uuid' from raw.amplitude_events")]
        assert sorted(uuids) == sorted(e["uuid"] for e in events)
        assert query(warehouse, "select count(*), count(file_path) from sync.extract_checkpoints") == [(3, 2)]
        hourly = cli("extract", "amplitude", "--from", "20240303T04", "--to", "20240303T06", "--hourly",
                     "--api-host", server.url, "--out-dir", str(tmp_path / "amp"), *FAST, env=env)
        assert hourly.exit_code == 0 and "2 empty" in hourly.output
        assert query(warehouse, "select count(*) from raw.amplitude_events") == [(9,)]  # the 05h zip held the same bytes
    finally:
        server.stop()


def test_ctrl_c_stops_with_one_line_and_the_rerun_resumes(warehouse, tmp_path, mixpanel_env):
    server = ExportServer("svc", "s3cret", mixpanel_events(days=4, per_day=2), latency=0.3).start()
    env = {**os.environ, **mixpanel_env(server), "WAREHOUSE_PATH": str(warehouse)}
    command = [sys.executable, "-m", "sync", "extract", "mixpanel", "--from", "2024-02-27", "--to", "2024-03-01",
               "--api-host", server.url, "--out-dir", str(tmp_path / "out"), *FAST]
    try:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().startswith("landed")
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
        assert child.returncode == 130 and "Traceback" not in stderr
        assert stderr.strip().startswith("interrupted:") and len(stderr.strip().splitlines()) == 1
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert resumed.returncode == 0, resumed.stderr
        assert query(warehouse, "select count(*) from raw.mixpanel_events") == [(8,)]
    finally:
        server.stop()


def test_event_filter_is_sent_as_mixpanel_expects(warehouse, tmp_path, cli, mixpanel_env):
    server = ExportServer("svc", "s3cret", mixpanel_events(days=1, per_day=3)).start()
    try:
        result = cli("extract", "mixpanel", "--from", "2024-02-27", "--to", "2024-02-27", "--event", "Viewed ü",
                     "--event", "Signed Up", "--api-host", server.url, "--out-dir", str(tmp_path / "o"), *FAST,
                     env=mixpanel_env(server))
        assert result.exit_code == 0, result.output
        assert json.loads(server.requests[0]["event"]) == ["Viewed ü", "Signed Up"]
        assert query(warehouse, "select count(*) from raw.mixpanel_events") == [(3,)]
    finally:
        server.stop()


def test_a_longer_window_over_a_checkpointed_shorter_one_is_fetched(warehouse, tmp_path, cli):
    events = amplitude_events(["2024-03-01 00", "2024-03-01 23"], per_hour=2)
    server = ExportServer("akey", "asecret", events).start()
    env = {"AMPLITUDE_API_KEY": "akey", "AMPLITUDE_SECRET_KEY": "asecret"}
    args = ["--api-host", server.url, "--out-dir", str(tmp_path / "amp"), *FAST]
    try:
        assert cli("extract", "amplitude", "--from", "20240301T00", "--to", "20240301T11", *args, env=env).exit_code == 0
        result = cli("extract", "amplitude", "--from", "20240301T00", "--to", "20240301T23", *args, env=env)
        assert result.exit_code == 0 and "landed   amplitude 20240301T00..20240301T23" in result.output
        assert query(warehouse, "select count(*) from raw.amplitude_events") == [(4,)]   # hour 00 not landed twice
    finally:
        server.stop()


def test_only_windows_ending_in_the_last_48_hours_count_as_recent():
    from datetime import timedelta

    from sync.extract import Extractor, Window
    from sync.warehouse import utcnow

    now = utcnow()
    assert not Extractor.recent(Window("2024-01-01", "2024-01-01"))
    assert Extractor.recent(Window(f"{now:%Y-%m-%d}", f"{now:%Y-%m-%d}"))
    assert Extractor.recent(Window(f"{now:%Y%m%dT%H}", f"{now:%Y%m%dT%H}"))
    old = now - timedelta(hours=60)
    assert not Extractor.recent(Window(f"{old:%Y%m%dT%H}", f"{old:%Y%m%dT%H}"))
