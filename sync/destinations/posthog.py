"""PostHog's `/batch/` endpoint (see shared/REFERENCE.md: PostHog capture)."""

from __future__ import annotations

import os
import zlib
from datetime import timedelta

import orjson
from isal import isal_zlib

from sync.config import Secret
from sync.errors import UsageError
from sync.destinations.base import Settings, checked_host, checked_key

# PostHog checks the decompressed body against 20 MB; stay a little under it.
MAX_BODY_BYTES = 20_000_000 - 64_000
# One event must fit a Kafka message (~1 MB); posthog-python drops events over 900 KiB.
MAX_EVENT_BYTES = 900 * 1024

# One event's JSON, built by DuckDB straight from the mart's columns. String concatenation
# with to_json() for every text value is twice as fast as json_object() and escapes the same;
# `properties` is already JSON (the mart's contract types it) and goes in as it is.
# One event's JSON, built by DuckDB straight from the mart's columns. String concatenation
# with to_json() for every text value is twice as fast as json_object() and escapes the same.
# PostHog's properties are the mart's `properties` joined with its `posthog_properties` (the
# markers PostHog's importer adds, $groups, $set, $set_once; both JSON objects by the mart's
# contract, `posthog_properties` never empty).
PROPERTIES_SQL = (
    """case when cast(e.properties as varchar) = '{}' then cast(e.posthog_properties as varchar)"""
    """ else left(cast(e.properties as varchar), length(cast(e.properties as varchar)) - 1)"""
    """ || ',' || substr(cast(e.posthog_properties as varchar), 2) end"""
)
PAYLOAD_SQL = (
    """'{"uuid":' || to_json(e.uuid) || ',"event":' || to_json(e.event)"""
    """ || ',"distinct_id":' || to_json(e.distinct_id) || ',"timestamp":' || to_json(e.timestamp)"""
    """ || ',"properties":' || """ + PROPERTIES_SQL + """ || '}'"""
)


class PostHog:
    name = "posthog"
    label = "PostHog"
    settings = ("host", "api_key")
    key_env = "POSTHOG_API_KEY"
    host_env = "POSTHOG_HOST"
    max_body_bytes = MAX_BODY_BYTES
    max_event_bytes = MAX_EVENT_BYTES
    max_events = 1_000_000      # no documented cap on events per batch; the body limit applies
    default_batch_size = 1000
    # PostHog's import guidance: a day of data per batch, and below a few thousand events per
    # second unless agreed with them (docs: migrate/index)
    default_split_by_day = True
    default_events_per_second = 3000.0
    pace_guidance = "PostHog's guidance for imports"
    # PostHog's historical import asks for events at least 48 h old: newer ones (and events
    # dated in the future) are held back unless --allow-recent
    holds_recent = timedelta(hours=48)
    holds_recent_why = "PostHog's historical import asks for older events"
    # PostHog applies $set in ingestion order: $set_once keeps today's values (the default)
    set_once = "$set_once (safe for history, the default) or $set (overwrites)"
    too_large_reason = "event_too_large"
    payload_sql = PAYLOAD_SQL
    events_mart = "events"
    # for dbt docs (models/exposures.yml): per mart, label, maturity, description
    docs_url = "https://posthog.com/docs/migrate"
    exposures = {
        "events": (
            "PostHog events (sync push --destination posthog)", "high",
            "`sync push --destination posthog` sends the `events` mart to PostHog's `/batch/` endpoint with "
            "`historical_migration: true`, oldest first, and records every request and delivered event in the "
            "`sync` schema (see sync_reconciliation).",
        ),
        "persons": (
            "PostHog persons (sync push --destination posthog --only persons)", "medium",
            "`$identify` events with `$set_once` (or `$set`) built from the `persons` mart, sent before the events.",
        ),
        "identity_links": (
            "PostHog identity links (sync push --destination posthog --only identities)", "medium",
            "One `$identify` with `$anon_distinct_id` per anonymous/known id pair, at the time it was first seen.",
        ),
        "groups": (
            "PostHog groups (sync push --destination posthog --only groups)", "medium",
            "One `$groupidentify` per group with its properties in `$group_set`, again when a newer load changes them.",
        ),
    }

    @classmethod
    def from_settings(cls, settings: Settings) -> "PostHog":
        """--host else $POSTHOG_HOST, --api-key else $POSTHOG_API_KEY."""
        host = settings.host or os.environ.get(cls.host_env)
        if not host:
            raise UsageError(f"no PostHog host: set ${cls.host_env} (e.g. https://us.i.posthog.com) or pass --host")
        checked_host(host, cls.label)
        key = checked_key(
            settings.api_key or os.environ.get(cls.key_env),
            f"no PostHog project API key: set ${cls.key_env} or pass --api-key",
            f"the PostHog project API key (${cls.key_env})", "an API key",
        )
        return cls(host, Secret(key))

    def __init__(self, host: str, api_key: Secret, gzip_level: int = 1) -> None:
        self.host = host.rstrip("/")
        self.url = f"{self.host}/batch/"
        self._prefix = b'{"api_key":' + orjson.dumps(api_key.reveal()) + b',"historical_migration":true,"batch":['
        if not 0 <= gzip_level <= 3:
            raise ValueError("gzip_level must be 0-3 (ISA-L's levels)")
        self.gzip_level = gzip_level

    @staticmethod
    def persons_payload_sql(set_once: bool = True) -> str:
        """One `$identify` event per row of the persons mart. Its properties go in `$set_once` by
        default (PostHog applies `$set` in ingestion order, so a historical value could overwrite
        today's), in `$set` with set_once=False; its set-once properties (`$initial_*`) always go
        in `$set_once`."""
        once = "cast(e.properties_once as varchar)"
        if set_once:
            person = f"""'"$set_once":' || case when {once} = '{{}}' then cast(e.properties as varchar)""" \
                     f""" else cast(json_merge_patch(e.properties, e.properties_once) as varchar) end"""
        else:
            person = f"""'"$set":' || cast(e.properties as varchar) || case when {once} = '{{}}' then '' else ',"$set_once":' || {once} end"""
        return (
            """'{"uuid":' || to_json(e.uuid) || ',"event":"$identify","distinct_id":' || to_json(e.distinct_id)"""
            """ || ',"timestamp":' || to_json(e.timestamp)"""
            f""" || ',"properties":{{' || {person} || ',' || substr(cast(e.posthog_properties as varchar), 2) || '}}'"""
        )

    @staticmethod
    def identities_payload_sql() -> str:
        """One `$identify` per row of identity_links, as PostHog's importer sends one the first time
        it sees a user id and a device id together: distinct_id = the known id, `$anon_distinct_id`
        = the anonymous one, at the time the pair was first seen."""
        return (
            """'{"uuid":' || to_json(e.uuid) || ',"event":"$identify","distinct_id":' || to_json(e.known_id)"""
            """ || ',"timestamp":' || to_json(e.timestamp)"""
            """ || ',"properties":' || cast(e.properties as varchar) || '}'"""
        )

    @staticmethod
    def groups_payload_sql() -> str:
        """One `$groupidentify` per row of the groups mart, as PostHog's importer sends it: sent as
        the person the group was last seen with, `$group_type`, `$group_key`, `$group_set`."""
        return (
            """'{"uuid":' || to_json(e.uuid) || ',"event":"$groupidentify","distinct_id":' || to_json(e.distinct_id)"""
            """ || ',"timestamp":' || to_json(e.timestamp)"""
            """ || ',"properties":{"$group_type":' || to_json(e.group_type) || ',"$group_key":' || to_json(e.group_key)"""
            """ || ',"$group_set":' || cast(e.properties as varchar)"""
            """ || ',' || substr(cast(e.posthog_properties as varchar), 2) || '}'"""
        )

    def __repr__(self) -> str:
        return f"PostHog({self.host!r})"   # the key is in the request prefix: never shown

    def envelope_bytes(self) -> int:
        return len(self._prefix) + 2

    def body(self, events: bytes) -> bytes:
        """`events`: the events' JSON objects joined by commas."""
        # Compressed piece by piece: no uncompressed copy of the whole body is made.
        gzipper = isal_zlib.compressobj(self.gzip_level, zlib.DEFLATED, 31)  # wbits 31: gzip container
        return gzipper.compress(self._prefix) + gzipper.compress(events) + gzipper.compress(b"]}") + gzipper.flush()

    def preview_body(self, events: bytes) -> bytes:
        """The body as it would be sent, uncompressed, with the key masked (for --dry-run)."""
        return b'{"api_key":"***","historical_migration":true,"batch":[' + events + b"]}"

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Content-Encoding": "gzip"}

    def auth(self) -> tuple[str, str] | None:
        return None


DESTINATION = PostHog
