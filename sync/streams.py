"""What `sync push` sends: four streams, each a mart of its own with its own ledger.

A push sends them in the order a destination needs them (PostHog's importer conventions,
shared/REFERENCE.md): persons first (PostHog copies a person's properties onto the events it
ingests after them), then the links between anonymous and known ids (so later events of either
id land on one person), then groups (their properties), then events. Each stream is kept in the
ledger under its own name ("posthog", "posthog:persons", ...): pending, delivered, failed,
settled loads and runs are per stream, and a stream is exactly-once on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.errors import UsageError


@dataclass(frozen=True)
class Stream:
    name: str           # as `--only` takes it
    suffix: str         # of its ledger name: "posthog" + ":persons"
    mart: str           # the dbt model it reads
    table: str          # the relation (or subquery) the push reads, aliased `e` in its SQL
    noun: str           # "persons", for counts
    singular: str       # "person"
    held: bool          # the destination's minimum age applies (events only)

    def ledger_name(self, destination: str) -> str:
        return destination + self.suffix

    def mart_for(self, destination) -> str:
        """The dbt model the stream reads for `destination` (a class or instance, or None): the
        events in the destination's own shape (Segment's `segment_events`), the others as they are."""
        return getattr(destination, "events_mart", self.mart) if self is EVENTS and destination is not None else self.mart

    def table_for(self, destination) -> str:
        mart = self.mart_for(destination)
        return self.table if mart == self.mart else f"main.{mart}"

    def payload_sql(self, destination, set_once: bool = True) -> str:
        """One row's JSON for `destination`, as a DuckDB expression over the mart `e`."""
        if self is PERSONS:
            return destination.persons_payload_sql(set_once=set_once)
        if self is IDENTITIES:
            return destination.identities_payload_sql()
        if self is GROUPS:
            return destination.groups_payload_sql()
        return destination.payload_sql


# Persons with nothing known about them are not worth an identify call.
PERSONS = Stream(
    "persons", ":persons", "persons",
    "(select * from main.persons where has_properties)",
    "persons", "person", held=False,
)
IDENTITIES = Stream("identities", ":identities", "identity_links", "main.identity_links", "links", "link", held=False)
GROUPS = Stream("groups", ":groups", "groups", "main.groups", "groups", "group", held=False)
EVENTS = Stream("events", "", "events", "main.events", "events", "event", held=True)

ORDER: tuple[Stream, ...] = (PERSONS, IDENTITIES, GROUPS, EVENTS)
BY_NAME = {stream.name: stream for stream in ORDER}


def of(ledger_name: str) -> Stream:
    """The stream a ledger name stands for: "posthog:persons" → PERSONS, "posthog" → EVENTS."""
    _, _, suffix = ledger_name.partition(":")
    return BY_NAME.get(suffix, EVENTS) if suffix else EVENTS


def chosen(only: str | None) -> tuple[Stream, ...]:
    """`--only events,persons` → those streams, in push order; None → every stream."""
    if only is None:
        return ORDER
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown or not names:
        raise UsageError(
            f"--only takes a comma-separated list of {', '.join(BY_NAME)} (got {only!r})"
        )
    return tuple(stream for stream in ORDER if stream.name in names)
