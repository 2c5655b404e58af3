"""Destinations, one module each, found here: a destination is registered by being written.

Each destination class knows everything about its API: which settings it takes (flags and
environment variables) and how it checks them, its limits, how an event becomes a request
body, its defaults (batch size, pace, one day per batch), age rules such as PostHog's 48 h,
and how dbt's docs describe it. The CLI, `sync status`, the dry run, the push and the report
read it from DESTINATIONS; `models/exposures.yml` is written from it (`python -m
sync.destinations > models/exposures.yml`; tests/test_destinations.py checks it is current).
A new destination is its module here.
"""

from __future__ import annotations

from sync.destinations.base import Destination, Settings, flag
from sync.errors import UsageError
from sync.registry import discover


def _discover() -> dict[str, type]:
    return {destination.name: destination for destination in discover(__name__, __path__, "DESTINATION")}


DESTINATIONS: dict[str, type] = _discover()

__all__ = ["DESTINATIONS", "Destination", "Settings", "build", "exposures_yaml", "for_stream"]


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




def exposures_yaml() -> str:
    """models/exposures.yml: each destination's syncs as dbt exposures, so `dbt docs` shows the
    whole lineage from raw to the destinations."""
    lines = [
        "version: 2",
        "",
        "# Written by `python -m sync.destinations > models/exposures.yml` from sync/destinations:",
        "# the syncs out of the warehouse, so `dbt docs generate` shows the whole lineage.",
        "exposures:",
    ]
    for destination in DESTINATIONS.values():
        for mart, (label, maturity, description) in destination.exposures.items():
            lines += [
                f"  - name: {destination.name}_{mart}",
                f"    label: {label}",
                "    type: application",
                f"    maturity: {maturity}",
                *([f"    url: {destination.docs_url}"] if mart == "events" else []),
                "    description: >",
                *[f"      {part}" for part in _wrap(description)],
                "    depends_on:",
                f"      - ref('{mart}')",
                "    owner:",
                "      name: Analytics engineering",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def _wrap(text: str, width: int = 88) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)
