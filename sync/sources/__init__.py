"""The sources backfill reads, one module each, registered once below.

Each module defines a `SOURCE` (sync.sources.base.Source): its raw table, the shape of its
records, and its export API if `sync extract` can fetch it. The CLI's choices, the warehouse's
raw tables, the wrong-source check of `sync load` and `sync extract` all read this registry.
A new source is its module, one line here, and its staging model (models/staging/<name>/).
"""

from __future__ import annotations

from sync.sources import amplitude, ga4, mixpanel, segment
from sync.sources.base import ExportAPI, ExportPlan, Source, Window, credential

SOURCES: dict[str, Source] = {
    source.name: source for source in (mixpanel.SOURCE, amplitude.SOURCE, segment.SOURCE, ga4.SOURCE)
}

__all__ = ["SOURCES", "ExportAPI", "ExportPlan", "Source", "Window", "credential", "raw_tables"]


def raw_tables() -> list[str]:
    return [source.raw_table for source in SOURCES.values()]
