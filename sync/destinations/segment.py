"""Segment's HTTP Tracking API `/v1/batch` (see shared/REFERENCE.md: Segment)."""

from __future__ import annotations

import json
import os

import orjson

from sync.config import Secret
from sync.destinations.base import Settings, checked_host, checked_key
from sync.errors import UsageError

US_HOST = "https://api.segment.io"
EU_HOST = "https://events.eu1.segmentapis.com"
REGIONS = {"us": US_HOST, "eu": EU_HOST}

MAX_BODY_BYTES = 500_000      # Segment: a request is at most 500 KB (oversize → 400)
MAX_EVENT_BYTES = 32_000      # Segment: a message is at most 32 KB (oversize → 400)
MAX_EVENTS = 2_500            # Segment: more messages in one batch → 200, and the batch is dropped

# One message per event, built by DuckDB from the `segment_events` view (the events mart in
# Segment's spec: context fields from the segment_fields seed, no `$`-keys in properties). A
# distinct_id that is only an anonymous/device id goes in `anonymousId`, any other in `userId`.
# messageId = the event's uuid, so a resend is deduplicated by Segment; an archived message's
# sentAt/messageId/projectId never reach the mart.
PAYLOAD_SQL = (
    """'{"type":' || to_json(e.message_type)"""
    """ || case when e.distinct_id_is_anonymous then ',"anonymousId":' else ',"userId":' end || to_json(e.distinct_id)"""
    """ || case e.message_type when 'track' then ',"event":' || to_json(e.event)"""
    """ when 'screen' then coalesce(',"name":' || to_json(e.screen_name), '') else '' end"""
    """ || ',"properties":' || cast(e.properties as varchar)"""
    """ || case when cast(e.context as varchar) = '{}' then '' else ',"context":' || cast(e.context as varchar) end"""
    """ || ',"timestamp":' || to_json(e.timestamp) || ',"messageId":' || to_json(e.uuid) || '}'"""
)


class Segment:
    name = "segment"
    label = "Segment"
    settings = ("host", "write_key", "region", "integrations")
    key_env = "SEGMENT_WRITE_KEY"
    host_env = "SEGMENT_HOST"
    max_body_bytes = MAX_BODY_BYTES
    max_event_bytes = MAX_EVENT_BYTES
    max_events = MAX_EVENTS
    default_batch_size = MAX_EVENTS   # requests are cut at 500 KB first, in practice
    default_split_by_day = False
    default_events_per_second = None  # Segment publishes no events/s guidance for batch
    pace_guidance = None
    holds_recent = None               # Segment takes recent events as they are
    holds_recent_why = None
    set_once = None                   # Segment's identify carries traits as they are
    too_large_reason = "message_too_large"
    payload_sql = PAYLOAD_SQL
    events_mart = "segment_events"    # the events in Segment's spec (a dbt view over `events`)
    # for dbt docs (models/exposures.yml): per mart, label, maturity, description
    docs_url = "https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/"
    exposures = {
        "events": (
            "Segment events (sync push --destination segment)", "medium",
            "`sync push --destination segment` sends the `events` mart to Segment's `/v1/batch` as track and "
            "page messages (messageId = the event's uuid), within Segment's size limits.",
        ),
        "persons": (
            "Segment identify (sync push --destination segment --only persons)", "medium",
            "identify messages with traits from the `persons` mart.",
        ),
        "identity_links": (
            "Segment identity links (sync push --destination segment --only identities)", "medium",
            "identify messages carrying both userId and anonymousId (alias messages for Segment aliases).",
        ),
        "groups": (
            "Segment groups (sync push --destination segment --only groups)", "medium",
            "group messages with groupId and traits from the `groups` mart.",
        ),
    }

    @classmethod
    def from_settings(cls, settings: Settings) -> "Segment":
        """--host, else --region's host, else $SEGMENT_HOST, else the US host; --write-key else
        $SEGMENT_WRITE_KEY; --integrations a JSON object sent with every batch."""
        if settings.host and settings.region:
            raise UsageError("give either --host or --region, not both")
        if settings.region is not None and settings.region not in REGIONS:
            raise UsageError(f"--region must be one of {', '.join(REGIONS)}")
        host = settings.host or (EU_HOST if settings.region == "eu" else None) or os.environ.get(cls.host_env) or US_HOST
        checked_host(host, cls.label)
        key = checked_key(
            settings.write_key or os.environ.get(cls.key_env),
            f"no Segment write key: set ${cls.key_env} or pass --write-key",
            f"the Segment write key (${cls.key_env})", "a write key",
        )
        chosen = None
        if settings.integrations is not None:
            try:
                chosen = json.loads(settings.integrations)
            except ValueError as exc:
                raise UsageError(f"--integrations is not valid JSON: {exc}") from None
            if not isinstance(chosen, dict):
                raise UsageError('--integrations must be a JSON object, e.g. \'{"All": false, "Mixpanel": true}\'')
        return cls(host, Secret(key), chosen)

    def __init__(self, host: str, write_key: Secret, integrations: dict | None = None) -> None:
        self.host = host.rstrip("/")
        self.url = f"{self.host}/v1/batch"
        self._write_key = write_key
        self._prefix = b'{"batch":['
        self._suffix = b"]" + (b',"integrations":' + orjson.dumps(integrations) if integrations is not None else b"") + b"}"

    @staticmethod
    def persons_payload_sql(set_once: bool = True) -> str:  # noqa: ARG004 - Segment has no set-once
        """One `identify` message per row of the persons mart, traits = its properties."""
        return (
            """'{"type":"identify"'"""
            """ || case when e.distinct_id_is_anonymous then ',"anonymousId":' else ',"userId":' end || to_json(e.distinct_id)"""
            """ || ',"traits":' || case when cast(e.properties_once as varchar) = '{}' then cast(e.properties as varchar)"""
            """ else cast(json_merge_patch(e.properties_once, e.properties) as varchar) end"""
            """ || ',"timestamp":' || to_json(e.timestamp) || ',"messageId":' || to_json(e.uuid) || '}'"""
        )

    @staticmethod
    def groups_payload_sql() -> str:
        """One `group` message per row of the groups mart: groupId, traits, and the user it was
        last seen with (Segment's groups have no type: every type's groups go as group calls)."""
        return (
            """'{"type":"group","groupId":' || to_json(e.group_key)"""
            """ || case when e.distinct_id_is_anonymous then ',"anonymousId":' else ',"userId":' end || to_json(e.distinct_id)"""
            """ || ',"traits":' || cast(e.properties as varchar)"""
            """ || ',"timestamp":' || to_json(e.timestamp) || ',"messageId":' || to_json(e.uuid) || '}'"""
        )

    @staticmethod
    def identities_payload_sql() -> str:
        """One message per row of identity_links: an `identify` carrying both ids, or an `alias`
        (previousId → userId) where the source had one."""
        return (
            """case when e.link_type = 'alias'"""
            """ then '{"type":"alias","previousId":' || to_json(e.anonymous_id) || ',"userId":' || to_json(e.known_id)"""
            """ else '{"type":"identify","userId":' || to_json(e.known_id) || ',"anonymousId":' || to_json(e.anonymous_id) end"""
            """ || ',"timestamp":' || to_json(e.timestamp) || ',"messageId":' || to_json(e.uuid) || '}'"""
        )

    def __repr__(self) -> str:
        return f"Segment({self.host!r})"

    def envelope_bytes(self) -> int:
        return len(self._prefix) + len(self._suffix)

    def body(self, events: bytes) -> bytes:
        """`events`: the messages' JSON joined by commas. Sent uncompressed, as Segment documents."""
        return b"".join((self._prefix, events, self._suffix))

    def preview_body(self, events: bytes) -> bytes:
        """The body as it would be sent (the write key travels in a header, not here)."""
        return self.body(events)

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def auth(self) -> tuple[str, str]:
        """HTTP Basic: the write key as user name, an empty password."""
        return (self._write_key.reveal(), "")


DESTINATION = Segment
