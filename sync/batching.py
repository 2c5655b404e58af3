"""Batches of events and pure functions to cut rows into them: by count and day as they
stream from DuckDB, and by size when a batch must be split. No I/O.

A row is one event as a plain tuple, as DuckDB hands it over:
(uuid, event time in epoch microseconds UTC, the event's JSON as UTF-8 bytes).
Bytes, not str: the JSON goes from DuckDB to the request body without being decoded and
encoded again, and its size is simply len().
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

Row = tuple[str, int, bytes]
UUID, EVENT_US, PAYLOAD = range(3)
# map() with these runs its per-row loop in C: a batch's joins and sizes cost a third of a generator's
_uuid, _payload = itemgetter(UUID), itemgetter(PAYLOAD)

_EPOCH = datetime(1970, 1, 1)
_DAY_US = 86_400_000_000


def event_at(row: Row) -> datetime:
    """The row's event time as a naive UTC datetime."""
    return _EPOCH + timedelta(microseconds=row[EVENT_US])


def pack(
    rows: Iterable[Row],
    *,
    max_events: int,
    max_bytes: int,
    envelope_bytes: int,
) -> Iterator[list[Row]]:
    """Group rows in order into batches of at most `max_events` rows whose JSON body
    (envelope + payloads + separating commas) stays within `max_bytes`.

    A row that alone would not fit is yielded as a batch of one; the caller decides
    what to do with it."""
    batch: list[Row] = []
    size = envelope_bytes
    for row in rows:
        extra = len(row[PAYLOAD]) + 1 if batch else len(row[PAYLOAD])  # a comma before every row but the first
        if batch and (len(batch) >= max_events or size + extra > max_bytes):
            yield batch
            batch, size, extra = [], envelope_bytes, extra - 1
        batch.append(row)
        size += extra
    if batch:
        yield batch


def halves(batch: list[Row]) -> tuple[list[Row], list[Row]]:
    middle = len(batch) // 2
    return batch[:middle], batch[middle:]


def body_bytes(rows: list[Row]) -> int:
    """Size of the rows' JSON joined by commas."""
    return sum(map(len, map(_payload, rows))) + len(rows) - 1


def joined(rows: list[Row]) -> bytes:
    """The rows' JSON joined by commas: the content of a body's array."""
    return b",".join(map(_payload, rows))


def cut(
    rows: Iterable[Row], batch_size: int, split_by_day: bool, max_bytes: int, envelope_bytes: int
) -> Iterator[Batch]:
    """Cut rows (already in send order) into batches of at most `batch_size` events whose
    body (envelope + JSON + commas) stays within `max_bytes`, also ending a batch at every
    change of UTC day if `split_by_day`. An event too big on its own is a batch of one; the
    worker decides what to do with it."""
    batch: list[Row] = []
    size = envelope_bytes
    day = None
    for row in rows:
        extra = len(row[PAYLOAD]) + 1
        if batch and (size + extra > max_bytes or (split_by_day and row[EVENT_US] // _DAY_US != day)):
            yield Batch(batch)
            batch, size = [], envelope_bytes
        if split_by_day:
            day = row[EVENT_US] // _DAY_US
        batch.append(row)
        size += extra
        if len(batch) >= batch_size:
            yield Batch(batch)
            batch, size = [], envelope_bytes
    if batch:
        yield Batch(batch)


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive pending events, in send order, as DuckDB handed them over: each with
    its JSON already built. The worker joins them into one request body."""

    rows: list[Row]

    @property
    def events(self) -> int:
        return len(self.rows)

    @property
    def payloads(self) -> bytes:
        return joined(self.rows)

    @property
    def uuids(self) -> str:
        return ",".join(map(_uuid, self.rows))

    @property
    def body_bytes(self) -> int:
        return body_bytes(self.rows)

    @property
    def largest_event_bytes(self) -> int:
        return max(map(len, map(_payload, self.rows)))

    @property
    def first_event_at(self) -> datetime:
        return event_at(self.rows[0])

    @property
    def last_event_at(self) -> datetime:
        return event_at(self.rows[-1])
