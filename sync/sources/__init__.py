"""The sources backfill reads, one module each.

Each module of this package (but `base`) defines a `SOURCE` (sync.sources.base.Source): its
raw table, the shape of its records, and its export API if `sync extract` can fetch it. The
modules are found here, so a source is registered by being written: the CLI's choices, the
warehouse's raw tables, the wrong-source check of `sync load` and `sync extract` all read
SOURCES. A new source is its module here and its staging model (models/staging/<name>/), which
dbt needs named once, in the list at the top of models/intermediate/int_events__validated.sql.
"""

from __future__ import annotations

from sync.registry import discover
from sync.sources.base import ExportAPI, ExportPlan, Page, Source, Window, credential


def _discover() -> dict[str, Source]:
    return {source.name: source for source in discover(__name__, __path__, "SOURCE")}


SOURCES: dict[str, Source] = _discover()

__all__ = ["SOURCES", "ExportAPI", "ExportPlan", "Page", "Source", "Window", "credential", "raw_tables"]


def raw_tables() -> list[str]:
    return [source.raw_table for source in SOURCES.values()]
