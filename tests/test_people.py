"""People and groups end to end: realistic exports of every source in which users browse
anonymously, sign up, switch devices and belong to groups; one `sync push` sends persons,
identity links, groups and events, in that order, each exactly once, to PostHog and Segment."""

from __future__ import annotations

import json
from collections import Counter

from tests.support import people
from tests.support.helpers import dbt_in, project_copy, push_env, query, segment_env


def _built(tmp_path, warehouse, cli):
    """The people exports landed and built, with the Mixpanel group key declared in the seed."""
    project = project_copy(tmp_path)
    with (project / "seeds" / "group_type_mappings.csv").open("a", encoding="utf-8") as seed:
        seed.write(people.MIXPANEL_GROUP_SEED_ROW)
    for source, path in people.all_exports(tmp_path).items():
        result = cli("load", source, str(path))
        assert result.exit_code == 0, result.output
    dbt_in(project, warehouse, "build")
    return project


def _kind(event: dict) -> str:
    if event["event"] == "$groupidentify":
        return "groups"
    if event["event"] == "$identify":
        return "identities" if "$anon_distinct_id" in event["properties"] else "persons"
    return "events"


def test_one_push_sends_persons_links_groups_then_events_each_once(warehouse, tmp_path, cli, capture):
    project = _built(tmp_path, warehouse, cli)
    pending = {d["destination"]: d["pending"] for d in json.loads(cli("status", "--json").output)["destinations"]}

    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    sent = list(capture.state.events)
    kinds = [_kind(e) for e in sent]
    # the order: every person, then every link, then every group, then the events
    assert kinds == sorted(kinds, key=["persons", "identities", "groups", "events"].index)
    assert Counter(kinds) == {
        "persons": pending["posthog:persons"], "identities": pending["posthog:identities"],
        "groups": pending["posthog:groups"], "events": pending["posthog"],
    }
    assert len({e["uuid"] for e in sent}) == len(sent)

    # every anonymous/known pair linked exactly once, as PostHog's importer links them
    links = [e for e in sent if _kind(e) == "identities"]
    assert sorted((e["properties"]["$anon_distinct_id"], e["distinct_id"]) for e in links) == \
        sorted((anonymous, known) for anonymous, known, _ in people.LINKS)
    ana = next(e for e in links if e["properties"]["$anon_distinct_id"] == "amp-d1")
    assert ana["timestamp"] == "2023-01-01T10:05:00.000000Z"   # when the pair was first seen
    assert ana["properties"] | {"$anon_distinct_id": None} == {
        "$anon_distinct_id": None, "$amplitude_user_id": "amp-ana", "$amplitude_device_id": "amp-d1",
        "historical_migration": True, "analytics_source": "amplitude", "source_system": "amplitude",
        "$geoip_disable": True,
    }
    gus = next(e for e in links if e["distinct_id"] == "ünï-gus")
    assert gus["properties"]["$mixpanel_device_id"] == "設備-9"

    # persons: Amplitude's initial_* as $set_once $initial_* (first value kept, EMPTY skipped)
    persons = {e["distinct_id"]: e["properties"]["$set_once"] for e in sent if _kind(e) == "persons"}
    assert persons["amp-ana"] == {"plan": "pro", "$initial_referrer": "https://news.example/ü"}
    assert persons["seg-eve"] == {"email": "eve@example.com"}

    # groups: one $groupidentify each, with the latest properties across sources
    groups = {(e["properties"]["$group_type"], e["properties"]["$group_key"]): e for e in sent if _kind(e) == "groups"}
    assert {key: e["properties"]["$group_set"] for key, e in groups.items()} == people.GROUPS
    assert groups[("company", "acme")]["distinct_id"] == "seg-eve"
    assert groups[("company", "acme")]["properties"]["historical_migration"] is True
    # every stream carries PostHog's importer's markers, $geoip_disable included
    for event in sent:
        assert (event["properties"]["historical_migration"], event["properties"]["$geoip_disable"]) == (True, True), event
        assert event["properties"]["analytics_source"] in ("amplitude", "mixpanel", "segment", "ga4")
    assert {e["properties"]["$import_job_id"] for e in sent if _kind(e) == "events"} == \
        {job for (job,) in query(warehouse, "select import_job_id from stg_landing__loads")}

    # events carry their groups, and person properties as PostHog's importer puts them
    by_source_id = {e["properties"].get("source_event_id"): e for e in sent if _kind(e) == "events"}
    signup = by_source_id["7e0a1c00-0000-4000-8000-000000000002"]
    assert signup["properties"]["$groups"] == {"company": "acme"}
    assert signup["properties"]["$set_once"] == {"$initial_referrer": "https://news.example/ü"}
    phone = by_source_id["7e0a1c00-0000-4000-8000-000000000003"]
    assert {"$browser": "iOS", "$device_type": "Mobile", "$browser_version": "15.0"}.items() <= phone["properties"]["$set"].items()
    assert by_source_id["mp-people-2"]["properties"]["$groups"] == {"company": "initech"}
    assert by_source_id["seg-people-3"]["properties"]["$groups"] == {"company": "acme"}
    assert by_source_id["7e0a1c00-0000-4000-8000-000000000005"]["properties"]["$groups"] == {"company": "globex", "team": "t1"}
    # the properties PostHog's importer adds, as it names them
    clicked = by_source_id["7e0a1c00-0000-4000-8000-000000000006"]
    assert clicked["event"] == "$autocapture"
    assert {k: clicked["properties"][k] for k in ("$geoip_city_name", "$geoip_country_name", "$ip", "$amplitude_user_id")} == {
        "$geoip_city_name": "Kraków", "$geoip_country_name": "Polska", "$ip": "203.0.113.50", "$amplitude_user_id": "amp-bob"}
    cleo = by_source_id["mp-people-2"]["properties"]
    assert (cleo["$mixpanel_user_id"], cleo["$mixpanel_device_id"]) == ("mp-cleo", "mp-d1") and "$user_id" not in cleo

    # a rerun sends nothing; status agrees for every stream
    again = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert again.exit_code == 0 and len(capture.state.events) == len(sent), again.output
    status = {d["destination"]: d for d in json.loads(cli("status", "--json").output)["destinations"]}
    for stream in ("posthog", "posthog:persons", "posthog:identities", "posthog:groups"):
        assert (status[stream]["pending"], status[stream]["failed"]) == (0, 0)
    assert status["posthog:groups"]["delivered"] == len(people.GROUPS)
    view = {row[0]: row[1:] for row in query(warehouse, "select destination, delivered, failed, pending from sync_streams")}
    assert view == {name: (entry["delivered"], entry["failed"], entry["pending"])
                    for name, entry in status.items() if name.startswith("posthog")}
    assert cli("report", "--out", str(tmp_path / "report.html")).exit_code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<td>posthog:groups</td><td>4</td><td>4</td><td>0</td><td>0</td>" in page

    # a later load changes a group's properties: that group is sent again, nothing else but the new event
    later = tmp_path / "later"
    later.mkdir()
    changed = people.amplitude_export(later, "later.zip", [{
        "uuid": "7e0a1c00-0000-4000-8000-000000000099", "event_type": "Seat Added", "user_id": "amp-ana",
        "event_time": "2023-02-01 00:00:00", "groups": {"company": ["acme"]},
        "group_properties": {"company": {"acme": {"seats": 6}}},
    }])
    assert cli("load", "amplitude", str(changed)).exit_code == 0
    dbt_in(project, warehouse, "build")
    third = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert third.exit_code == 0, third.output
    new = capture.state.events[len(sent):]
    assert [_kind(e) for e in new] == ["groups", "events"], third.output + str(query(warehouse, "select * from raw.loads"))
    assert new[0]["properties"]["$group_set"] == {"industry": "tools", "name": "Acme Inc", "seats": 6}


def test_only_chooses_streams_and_a_stream_resumes_after_an_outage(warehouse, tmp_path, cli, capture):
    _built(tmp_path, warehouse, cli)
    only = cli("push", "-d", "posthog", "--only", "groups,identities", "--no-progress", env=push_env(capture))
    assert only.exit_code == 0, only.output
    assert {_kind(e) for e in capture.state.events} == {"groups", "identities"}
    assert "posthog:persons" not in only.output and "posthog: " not in only.output
    bad = cli("push", "-d", "posthog", "--only", "people", "--no-progress", env=push_env(capture))
    assert bad.exit_code != 0 and "--only takes" in bad.output and "Traceback" not in bad.output

    # the persons stream fails half way (the endpoint goes down), then resumes: each person once
    before = len(capture.state.events)
    capture.state.outage_after = capture.state.accepted_requests + 1
    first = cli("push", "-d", "posthog", "--only", "persons", "--batch-size", "1", "--concurrency", "1",
                "--max-retry-seconds", "0.5", "--no-progress", env=push_env(capture))
    assert first.exit_code == 1 and "Traceback" not in first.output
    assert query(warehouse, "select count(*) from sync.deliveries where destination = 'posthog:persons'") == [(1,)]
    capture.state.outage_after = None
    second = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert second.exit_code == 0, second.output
    persons = [e["distinct_id"] for e in capture.state.events[before:] if _kind(e) == "persons"]
    expected = query(warehouse, "select count(*) from persons where properties::varchar <> '{}' or properties_once::varchar <> '{}'")
    assert len(persons) == len(set(persons)) == expected[0][0] == 2
    assert "posthog:groups: nothing pending" in second.output and "posthog:identities: nothing pending" in second.output


def test_segment_gets_identify_alias_group_and_track(warehouse, tmp_path, cli, capture):
    _built(tmp_path, warehouse, cli)
    result = cli("push", "-d", "segment", "--no-progress", env=segment_env(capture))
    assert result.exit_code == 0, result.output
    messages = capture.state.events
    assert capture.state.violations == [] and capture.state.dropped == []
    identifies = {(m["anonymousId"], m["userId"]) for m in messages if m["type"] == "identify" and "anonymousId" in m and "traits" not in m}
    aliases = {(m["previousId"], m["userId"]) for m in messages if m["type"] == "alias"}
    assert identifies | aliases == {(a, k) for a, k, _ in people.LINKS}
    assert aliases == {("seg-old", "seg-eve")}
    clicked = next(m for m in messages if m.get("event") == "$autocapture")
    assert clicked["context"]["location"] == {"city": "Kraków", "country": "Polska", "region": "Małopolskie"}
    assert clicked["context"]["ip"] == "203.0.113.50" and not [k for k in clicked["properties"] if k.startswith("$")]
    groups = {m["groupId"]: m for m in messages if m["type"] == "group"}
    assert groups["acme"]["traits"] == people.GROUPS[("company", "acme")] and groups["acme"]["userId"] == "seg-eve"
    assert set(groups) == {key for _, key in people.GROUPS}
    again = cli("push", "-d", "segment", "--no-progress", env=segment_env(capture))
    assert again.exit_code == 0 and len(capture.state.events) == len(messages)


def test_more_than_five_group_types_fail_the_build_and_stop_the_push(warehouse, tmp_path, cli, capture):
    records = [{"uuid": f"7e0a1c00-0000-4000-8000-0000000001{n:02d}", "event_type": "a", "user_id": "u",
                "event_time": "2023-01-01 00:00:00", "groups": {f"type-{n}": "k"}} for n in range(6)]
    assert cli("load", "amplitude", str(people.amplitude_export(tmp_path, "six.zip", records))).exit_code == 0
    project = project_copy(tmp_path)
    built = dbt_in(project, warehouse, "build", check=False)
    assert built.returncode != 0 and "at_most_five_group_types" in built.stdout
    result = cli("push", "-d", "posthog", "--no-progress",
                 env=push_env(capture) | {"DBT_TARGET_PATH": str(project / "target")})
    assert result.exit_code == 1 and "at_most_five_group_types" in result.output
    assert capture.state.events == []


def test_a_refused_group_is_isolated_and_the_later_streams_still_go(warehouse, tmp_path, cli, capture):
    _built(tmp_path, warehouse, cli)
    (refused,) = query(warehouse, "select uuid from groups where group_key = 'globex'")[0]
    capture.state.refuse_uuids.add(refused)
    dry = cli("push", "-d", "posthog", "--dry-run", "--dry-run-dir", str(tmp_path / "dry"), "--no-progress",
              env=push_env(capture))
    assert dry.exit_code == 0, dry.output
    for stream in ("posthog:persons", "posthog:identities", "posthog:groups", "posthog"):
        assert f"{stream} (dry run, nothing sent)" in dry.output
    bodies = "".join(body.read_text(encoding="utf-8") for body in (tmp_path / "dry" / "groups").glob("request-*.json"))
    assert '"$groupidentify"' in bodies and "phc_" not in bodies
    assert capture.state.events == []

    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 1 and "1 groups (posthog:groups)" in result.output, result.output
    assert "Traceback" not in result.output
    kinds = Counter(_kind(e) for e in capture.state.events)
    assert kinds["groups"] == len(people.GROUPS) - 1 and kinds["events"] > 0
    assert query(warehouse, "select destination, uuid, http_status from sync.failed_events") == [("posthog:groups", refused, 400)]
    status = {d["destination"]: d for d in json.loads(cli("status", "--json").output)["destinations"]}
    assert (status["posthog:groups"]["failed"], status["posthog:groups"]["pending"]) == (1, 0)


def test_streams_with_nothing_to_send_say_so(small_warehouse, cli, capture):
    """A Mixpanel export without profiles or groups: the push says there is nothing to send for
    them, rather than that everything was delivered."""
    result = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert "posthog:persons: nothing to send, the persons mart has no persons with properties" in result.output
    assert "posthog:groups: nothing to send, the groups mart has no groups" in result.output
    assert "posthog:identities: 1 links delivered" in result.output   # bob's device and user id
    assert "posthog: 6 events delivered" in result.output
