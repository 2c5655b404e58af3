"""Mixpanel user profiles (Engage): `sync load mixpanel-profiles`, `sync extract mixpanel
--profiles` against a local Engage-compatible endpoint, and the profiles' way through dbt to the
persons mart and `sync push --persons`."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from tests.support.export_servers import ExportServer, mixpanel_profiles
from tests.support.helpers import FIXTURES, push_env, query

FAST = ["--max-requests-per-hour", "1000000"]
ACCOUNT = {"MIXPANEL_SERVICE_ACCOUNT": "svc:s3cret", "MIXPANEL_PROJECT_ID": "42"}


def today() -> str:
    return str(datetime.now(timezone.utc).date())


@pytest.fixture
def engage():
    servers: list[ExportServer] = []

    def start(profiles: list[dict], page_size: int = 1000) -> ExportServer:
        servers.append(ExportServer("svc", "s3cret", [], profiles=profiles, page_size=page_size).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def extract(cli, server: ExportServer, out, *extra: str, env: dict[str, str] = ACCOUNT):
    return cli("extract", "mixpanel", "--profiles", "--api-host", server.url, "--out-dir", str(out), *FAST, *extra, env=env)


def distinct_ids(warehouse) -> list[str]:
    return [i for (i,) in query(warehouse, """select record->>'$."$distinct_id"' from raw.mixpanel_profiles""")]


def test_load_takes_json_arrays_json_lines_and_engage_answers_and_reruns_land_nothing(cli, warehouse, tmp_path):
    array = tmp_path / "profiles.json"
    array.write_text(json.dumps([
        {"$distinct_id": "a-1", "$properties": {"$name": "Zoë", "$last_seen": "2023-01-05T10:00:00"}},
        "not a profile",
        {"$distinct_id": "a-2", "$properties": {"plan": "pro"}},
    ], indent=2, ensure_ascii=False), encoding="utf-8")
    lines = tmp_path / "profiles.jsonl.gz"
    lines.write_bytes(gzip.compress((
        '{"$distinct_id": "l-1", "$properties": {"city": "Zürich"}}\n'
        '{"$distinct_id": "l-2", "$properties": {"plan": "free"\n'
        "\n"
        '{"$distinct_id": "l-3", "$properties": {}}\n'
    ).encode()))
    answer = tmp_path / "engage-page0.json"   # a whole Engage answer, as saved from the API
    answer.write_text(json.dumps({
        "page": 0, "page_size": 1000, "session_id": "s-1", "status": "ok", "total": 2,
        "results": [{"$distinct_id": "e-1", "$properties": {"n": 1}}, {"$distinct_id": "e-2", "$properties": {"n": 2}}],
    }), encoding="utf-8")

    result = cli("load", "mixpanel-profiles", str(array), str(lines), str(answer))
    assert result.exit_code == 0, result.output
    assert f"loaded   {array}: 2 records, 1 bad line" in result.output
    assert f"loaded   {lines}: 2 records, 2 bad lines" in result.output
    assert f"loaded   {answer}: 2 records, 0 bad lines" in result.output
    landed = query(warehouse, """select file_path, line_number, record->>'$."$distinct_id"' from raw.mixpanel_profiles order by 1, 2""")
    assert [(p.rsplit("/", 1)[1], n, i) for p, n, i in landed] == [
        ("engage-page0.json", 1, "e-1"), ("engage-page0.json", 2, "e-2"),
        ("profiles.json", 1, "a-1"), ("profiles.json", 3, "a-2"),
        ("profiles.jsonl.gz", 1, "l-1"), ("profiles.jsonl.gz", 4, "l-3"),
    ]
    errors = query(warehouse, "select source_system, line_number, split_part(error, ':', 1) from raw.load_errors order by file_path, line_number")
    assert errors == [
        ("mixpanel-profiles", 2, "not a JSON object (got str)"),
        ("mixpanel-profiles", 2, "invalid JSON"), ("mixpanel-profiles", 3, "blank line"),
    ]
    assert query(warehouse, "select distinct source_system from raw.loads") == [("mixpanel-profiles",)]

    again = cli("load", "mixpanel-profiles", str(array), str(lines), str(answer))
    assert again.exit_code == 0 and "0 files landed, 3 skipped" in again.output
    assert query(warehouse, "select count(*) from raw.mixpanel_profiles") == [(6,)]
    assert query(warehouse, "select count(*) from raw.load_errors") == [(3,)]


def test_profiles_and_events_given_as_each_other_are_refused_naming_the_right_source(cli, warehouse, tmp_path):
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text("".join(json.dumps(p) + "\n" for p in mixpanel_profiles(3)), encoding="utf-8")
    array = tmp_path / "profiles.json"
    array.write_text(json.dumps(mixpanel_profiles(2), indent=1), encoding="utf-8")

    as_events = cli("load", "mixpanel", str(profiles), str(array))
    assert as_events.exit_code == 1
    for path, n in [(profiles, 3), (array, 2)]:
        assert (f"error    {path} looks like a mixpanel-profiles export, not mixpanel (its first {n} records): "
                f"`sync load mixpanel-profiles {path}`, or --force to land it as mixpanel") in as_events.output
    events = FIXTURES / "mixpanel_small.jsonl"
    as_profiles = cli("load", "mixpanel-profiles", str(events))
    assert as_profiles.exit_code == 1
    assert f"error    {events} looks like a mixpanel export, not mixpanel-profiles" in as_profiles.output
    assert query(warehouse, "select count(*) from raw.loads") == [(0,)]


def test_extract_pages_through_one_snapshot_lands_every_profile_once_and_reruns_skip(cli, warehouse, tmp_path, engage):
    profiles = mixpanel_profiles(2500)
    server = engage(profiles, page_size=1000)
    out = tmp_path / "out"
    result = extract(cli, server, out)
    assert result.exit_code == 0, result.output
    # page 0 opens a session; each full page asks for the next one in it
    assert [(r.get("session_id"), r.get("page")) for r in server.requests] == [(None, None), ("session-1", "1"), ("session-1", "2")]
    assert all(r["method"] == "POST" and r["path"] == "/api/query/engage" and r["project_id"] == "42" for r in server.requests)
    ids = distinct_ids(warehouse)
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(p["$distinct_id"] for p in profiles)
    assert f"landed   mixpanel-profiles {today()}: 2500 records, 0 bad lines in 3 pages, checkpointed" in result.output
    assert result.output.count("page     mixpanel-profiles") == 3
    assert query(warehouse, "select window_start, records, load_id from sync.extract_checkpoints") == [(today(), 2500, 3)]
    pages = sorted(out.glob("*.jsonl.gz"))
    assert [p.name for p in pages] == [f"mixpanel-profiles-42-{today()}-page{n:05d}.jsonl.gz" for n in (1, 2, 3)]
    assert all(p.read_bytes()[4:8] == b"\0\0\0\0" for p in pages)   # no gzip timestamp: same page, same bytes
    assert "extract mixpanel-profiles: 1 windows checkpointed" in cli("status").output

    before = len(server.requests)
    again = extract(cli, server, out)
    assert again.exit_code == 0 and "1 already checkpointed" in again.output and len(server.requests) == before
    forced = extract(cli, server, out, "--force")
    assert forced.exit_code == 0 and len(server.requests) == before + 3
    assert forced.output.count("same content already landed as load") == 3
    assert query(warehouse, "select count(*) from raw.mixpanel_profiles") == [(2500,)]


def test_a_snapshot_cut_short_is_fetched_again_from_its_first_page(cli, warehouse, tmp_path, engage):
    server = engage(mixpanel_profiles(7), page_size=3)
    server.faults.extend([("ok",), (401,)])   # the credentials are revoked after the first page
    stopped = extract(cli, server, tmp_path / "out")
    assert stopped.exit_code == 1
    assert f"answered 401 for {today()} page 2: the credentials in $MIXPANEL_SERVICE_ACCOUNT were refused" in stopped.output
    assert query(warehouse, "select count(*) from raw.mixpanel_profiles") == [(3,)]
    assert query(warehouse, "select count(*) from sync.extract_checkpoints") == [(0,)]   # not finished: not checkpointed

    resumed = extract(cli, server, tmp_path / "out")
    assert resumed.exit_code == 0, resumed.output
    assert [r.get("session_id") for r in server.requests[2:]] == [None, "session-2", "session-2"]   # a new session
    assert "page 1: same content already landed as load 1" in resumed.output
    ids = distinct_ids(warehouse)
    assert len(ids) == len(set(ids)) == 7
    assert query(warehouse, "select records from sync.extract_checkpoints") == [(7,)]


def test_429_then_a_cut_answer_then_5xx_are_retried_honouring_retry_after(cli, warehouse, tmp_path, engage):
    server = engage(mixpanel_profiles(5), page_size=2)
    server.faults.extend([(429, {"Retry-After": "1"}), ("ok",), ("drop",), (503,)])
    started = time.monotonic()
    result = extract(cli, server, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0
    assert len(server.requests) == 3 + 3   # three pages, three retries
    assert sorted(distinct_ids(warehouse)) == [f"user-{i}" for i in range(5)]


def test_a_wrong_secret_stops_at_once_in_one_line_without_a_traceback(warehouse, tmp_path, engage):
    server = engage(mixpanel_profiles(3))
    env = {**os.environ, "MIXPANEL_SERVICE_ACCOUNT": "svc:wrong-secret-xyz", "MIXPANEL_PROJECT_ID": "42", "WAREHOUSE_PATH": str(warehouse)}
    run = subprocess.run(
        [sys.executable, "-m", "sync", "extract", "mixpanel", "--profiles", "--api-host", server.url,
         "--out-dir", str(tmp_path / "out"), *FAST],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: mixpanel-profiles answered 401")
    assert "$MIXPANEL_SERVICE_ACCOUNT" in lines[0]
    assert "Traceback" not in run.stderr + run.stdout and "wrong-secret-xyz" not in run.stderr + run.stdout
    assert len(server.requests) == 1   # not retried


def test_profiles_flags_are_checked(cli, warehouse):
    mixed = cli("extract", "mixpanel", "--profiles", "--from", "2024-01-01", env=ACCOUNT)
    assert mixed.exit_code == 2 and "--profiles fetches every profile as it is now" in mixed.output
    neither = cli("extract", "mixpanel", env=ACCOUNT)
    assert neither.exit_code == 2 and "give --from and --to" in neither.output
    from sync.sources import SOURCES

    assert SOURCES["mixpanel-profiles"].export.requests_per_hour == 60   # the default pace: Engage's 60 queries an hour
    assert SOURCES["mixpanel-profiles"].export.host(None, "eu") == "https://eu.mixpanel.com"


def test_profiles_reach_persons_and_posthog_as_identify(cli, warehouse, tmp_path, dbt, engage, capture):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({"event": "Played", "properties": {
        "time": 1672574400 + i, "distinct_id": f"user-{i}", "$insert_id": f"ev-{i}"}}) + "\n" for i in (1, 2)), encoding="utf-8")
    assert cli("load", "mixpanel", str(events)).exit_code == 0
    dbt("build")

    profiles = mixpanel_profiles(12) + [
        {"$distinct_id": "", "$properties": {"plan": "orphan"}},                 # blank id: rejected
        {"$distinct_id": "$device:abc", "$properties": "not an object"},       # anonymous, no properties
    ]
    server = engage(profiles, page_size=5)
    assert extract(cli, server, tmp_path / "out").exit_code == 0
    dbt("build", "--selector", "everything")   # incremental, with the unit tests and the audit views' tests

    persons = {d: (json.loads(p), s, a) for d, p, s, a in query(
        warehouse, "select distinct_id, properties::varchar, source_systems, distinct_id_is_anonymous from persons")}
    for profile in profiles[:12]:
        assert persons[profile["$distinct_id"]][0] == profile["$properties"]
    assert persons["user-1"][1] == ["mixpanel", "mixpanel-profiles"]
    assert persons["$device:abc"] == ({}, ["mixpanel-profiles"], True)
    seen = dict(query(warehouse, "select distinct_id, last_seen_at from persons"))
    assert seen["user-3"] == datetime(2023, 1, 1, 0, 3)       # $last_seen
    assert seen["user-7"] == datetime(2023, 1, 1, 7)          # $created
    assert query(warehouse, "select count(*) from events where source_system = 'mixpanel-profiles'") == [(0,)]
    assert query(warehouse, """
        select exclusion_reason, count(*) from events_excluded where source_system = 'mixpanel-profiles' group by 1
    """) == [("profile_record", 13)]
    assert query(warehouse, "select rejection_reason, detail from events_rejected where source_system = 'mixpanel-profiles'") == [
        ("missing_distinct_id", "no $distinct_id")]
    assert query(warehouse, """
        select sum(raw_records), sum(excluded), sum(rejected), bool_and(reconciles)
        from sync_reconciliation where source_system = 'mixpanel-profiles'
    """) == [(14, 13, 1, True)]

    incremental = query(warehouse, "select * exclude (build_id) from persons order by distinct_id")
    dbt("build", "--full-refresh")
    assert query(warehouse, "select * exclude (build_id) from persons order by distinct_id") == incremental

    result = cli("push", "-d", "posthog", "--persons", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    sent = {e["distinct_id"]: e for e in capture.state.events}
    assert {e["event"] for e in sent.values()} == {"$identify"}
    assert set(sent) == {p["$distinct_id"] for p in profiles[:12]}   # persons with properties only
    for profile in profiles[:12]:
        assert sent[profile["$distinct_id"]]["properties"]["$set_once"] == profile["$properties"]
