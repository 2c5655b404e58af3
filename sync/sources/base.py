"""What a source is: the shape of its records, its raw table and, for the sources `sync extract`
can fetch, its export API. One module per source fills these in (see sync/sources/__init__.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.config import Secret
from sync.errors import UsageError


@dataclass(frozen=True)
class Window:
    """One request's time range, as the export API takes it: 2024-01-31, or 20240131T00."""

    start: str
    end: str

    @property
    def label(self) -> str:
        return self.start if self.start == self.end else f"{self.start}..{self.end}"


@dataclass(frozen=True)
class ExportPlan:
    """One `sync extract` run: its windows, and how to ask for each and name what comes back.

    A window may come in pages: when the source's `store` says another page follows, the next
    request carries the parameters it gave on top of the window's own, and its answer is stored
    as the window's next file."""

    windows: list[Window]
    request: Callable[[Window], tuple[str, dict[str, Any]]]   # URL and the parameters of its first request
    filename: Callable[[Window, int], str]                    # the file for a window's page 1, 2, ...
    auth: tuple[Secret, Secret]                               # HTTP Basic user and password
    credentials: str                                          # their variables, for messages
    method: str = "GET"                                       # GET: query parameters; POST: form fields


@dataclass(frozen=True)
class Page:
    """What `ExportAPI.store` found in a paged API's answer."""

    records: int                                  # records in it (0: nothing to land)
    next: dict[str, Any] | None = None            # parameters that ask for the next page; None after the last


@dataclass(frozen=True)
class ExportAPI:
    """A source's export API, as `sync extract` uses it."""

    hosts: dict[str, str]                  # data residency region -> host; the first is the default
    requests_per_hour: float               # the source's published limit (the default pace)
    store: Callable[[Any, Path], Page | None]   # writes one answer (a requests.Response) to a file;
                                                # a paged API's says what it held and what comes next
    empty_statuses: frozenset[int] = frozenset()   # answers that mean "no data for this window"

    def host(self, api_host: str | None, region: str | None) -> str:
        """--api-host, else the region's host, else the default one."""
        if api_host and region:
            raise UsageError("give either --api-host or --region, not both")
        if region and region not in self.hosts:
            raise UsageError(f"--region must be one of {', '.join(self.hosts)}")
        host = (api_host or self.hosts[region or next(iter(self.hosts))]).rstrip("/")
        if not host.startswith(("http://", "https://")):
            raise UsageError(f"--api-host must start with http:// or https:// (got {host!r})")
        return host


@dataclass(frozen=True)
class Source:
    name: str                              # as in `sync load NAME` and `source_system`
    raw_table: str                         # raw.<raw_table>: one row per record, as exported
    looks_like: Callable[[dict], bool]     # does a record plainly have this source's shape?
    export: ExportAPI | None = field(default=None)   # None: no `sync extract` for it
    envelope: str | None = None            # a file may also be one JSON object holding the records
                                           # as a list under this key (an API's whole answer)


def credential(env: str, shape: str = "") -> Secret:
    """A secret from the environment, or one line saying which variable to set."""
    value = os.environ.get(env)
    if not value:
        raise UsageError(f"${env} is not set{shape}")
    return Secret(value)
