"""The persons mart, and `sync push --persons` to PostHog ($identify) and Segment (identify)."""

from __future__ import annotations

import json

from tests.support.helpers import mixed_warehouse, push_env, query, segment_env


def test_persons_reach_posthog_as_set_once_identify_and_are_not_resent(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    known = dict(query(warehouse, "select distinct_id, properties::varchar from persons where properties::varchar <> '{}'"))
    assert json.loads(known["user-3"]) == {"email": "ana@example.com", "name": "Ana Łucja", "plan": "pro"}

    result = cli("push", "-d", "posthog", "--persons", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert f"{len(known)} persons delivered" in result.output
    sent = capture.state.events
    assert {e["event"] for e in sent} == {"$identify"}
    assert {e["distinct_id"]: e["properties"]["$set_once"] for e in sent} == {k: json.loads(v) for k, v in known.items()}
    # persons have their own ledger stream: events are still all pending, persons are done
    assert query(warehouse, "select destination, count(*) from sync.deliveries group by 1") == [("posthog:persons", len(known))]
    assert "nothing pending" in cli("push", "-d", "posthog", "--persons", "--no-progress", env=push_env(capture)).output
    events = cli("push", "-d", "posthog", "--no-progress", env=push_env(capture))
    assert events.exit_code == 0 and "events delivered" in events.output
    status = {d["destination"]: d for d in json.loads(cli("status", "--json").output)["destinations"]}
    assert status["posthog:persons"]["pending"] == 0 and status["posthog:persons"]["delivered"] == len(known)


def test_a_changed_person_is_sent_again_and_set_is_available(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    assert cli("push", "-d", "posthog", "--persons", "--no-progress", env=push_env(capture)).exit_code == 0
    before = len(capture.state.events)
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({
        "type": "identify", "userId": "user-3", "messageId": "msg-later", "timestamp": "2023-06-01T00:00:00Z",
        "traits": {"plan": "enterprise"},
    }) + "\n", encoding="utf-8")
    assert cli("load", "segment", str(later)).exit_code == 0
    dbt("build")
    result = cli("push", "-d", "posthog", "--persons", "--set", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0 and "1 persons delivered" in result.output, result.output
    (update,) = capture.state.events[before:]
    assert update["distinct_id"] == "user-3" and update["properties"]["$set"]["plan"] == "enterprise"
    assert update["timestamp"] == "2023-06-01T00:00:00.000000Z"


def test_persons_reach_segment_as_identify_with_traits(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    result = cli("push", "-d", "segment", "--persons", "--no-progress", env=segment_env(capture))
    assert result.exit_code == 0, result.output
    persons = {r[0]: r for r in query(warehouse, "select distinct_id, distinct_id_is_anonymous, properties::varchar, uuid from persons where properties::varchar <> '{}'")}
    messages = capture.state.events
    assert len(messages) == len(persons) and capture.state.violations == []
    for message in messages:
        assert message["type"] == "identify"
        distinct_id = message.get("userId") or message["anonymousId"]
        _, anonymous, properties, uuid = persons[distinct_id]
        assert ("anonymousId" in message) == anonymous
        assert message["traits"] == json.loads(properties) and message["messageId"] == uuid
    assert "nothing pending" in cli("push", "-d", "segment", "--persons", "--no-progress", env=segment_env(capture)).output


def test_identity_links_reach_posthog_once_as_identify_with_the_anonymous_id(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    links = query(warehouse, "select uuid, anonymous_id, known_id, timestamp from identity_links order by uuid")
    assert links
    result = cli("push", "-d", "posthog", "--identities", "--no-progress", env=push_env(capture))
    assert result.exit_code == 0, result.output
    assert f"{len(links)} links delivered" in result.output
    sent = sorted(capture.state.events, key=lambda e: e["uuid"])
    assert {e["event"] for e in sent} == {"$identify"}
    assert [(e["uuid"], e["properties"]["$anon_distinct_id"], e["distinct_id"], e["timestamp"]) for e in sent] == links
    again = cli("push", "-d", "posthog", "--identities", "--no-progress", env=push_env(capture))
    assert "nothing pending, every link in the identity_links mart was already delivered" in again.output
    assert len(capture.state.events) == len(links)
    status = {d["destination"]: d for d in json.loads(cli("status", "--json").output)["destinations"]}
    assert status["posthog:identities"]["pending"] == 0 and status["posthog:identities"]["delivered"] == len(links)
    assert status["posthog"]["delivered"] == 0   # the events are a stream of their own


def test_identity_links_reach_segment_as_identify_with_both_ids_or_as_alias(warehouse, tmp_path, cli, dbt, capture):
    mixed_warehouse(tmp_path, cli, dbt)
    alias = tmp_path / "alias.jsonl"
    alias.write_text(json.dumps({
        "type": "alias", "userId": "user-3", "previousId": "visitor-ü", "messageId": "msg-alias",
        "timestamp": "2023-02-01T00:00:00Z",
    }) + "\n", encoding="utf-8")
    assert cli("load", "segment", str(alias)).exit_code == 0
    dbt("build")
    links = dict(query(warehouse, "select uuid, link_type from identity_links"))
    assert "alias" in links.values()
    result = cli("push", "-d", "segment", "--identities", "--no-progress", env=segment_env(capture))
    assert result.exit_code == 0, result.output
    sent = {m["messageId"]: m for m in capture.state.events}
    assert set(sent) == set(links)
    for uuid, kind in links.items():
        message = sent[uuid]
        if kind == "alias":
            assert message["type"] == "alias" and "previousId" in message and "anonymousId" not in message
        else:
            assert message["type"] == "identify" and message["userId"] and message["anonymousId"]
    assert {(m["previousId"], m["userId"]) for m in sent.values() if m["type"] == "alias"} == {("visitor-ü", "user-3")}
