"""Destinations, one module each, registered once below.

Each destination class knows everything about its API: which settings it takes (flags and
environment variables) and how it checks them, its limits, how an event becomes a request
body, its defaults (batch size, pace, one day per batch), and age rules such as PostHog's 48 h.
The CLI, `sync status`, the dry run and the push read it from here; `models/exposures.yml`
names the marts each one reads (tests/test_destinations.py holds the two lists together).
A new destination is its module and one line in DESTINATIONS.
"""

from __future__ import annotations

from sync.destinations.base import Destination, Settings, flag
from sync.destinations.posthog import PostHog
from sync.destinations.segment import Segment
from sync.errors import UsageError

DESTINATIONS: dict[str, type] = {destination.name: destination for destination in (PostHog, Segment)}

__all__ = ["DESTINATIONS", "Destination", "Settings", "build", "for_stream"]


def build(name: str, settings: Settings) -> Destination:
    """The destination `name`, set up from the flags and the environment; a UsageError names
    the first thing missing or wrong, and a flag that belongs to another destination."""
    chosen = DESTINATIONS[name]
    foreign = [s for s in settings.given() if s not in chosen.settings]
    if foreign:
        owners = sorted({d.name for d in DESTINATIONS.values() for s in foreign if s in d.settings})
        flags = [flag(s) for s in foreign]
        listed = flags[0] if len(flags) == 1 else ", ".join(flags[:-1]) + " and " + flags[-1]
        raise UsageError(f"{listed} {'is' if len(flags) == 1 else 'are'} for --destination {' or '.join(owners)}")
    return chosen.from_settings(settings)


def for_stream(stream: str) -> type | None:
    """The destination a ledger stream belongs to ("posthog", "posthog:persons")."""
    return DESTINATIONS.get(stream.split(":", 1)[0])


