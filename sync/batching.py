"""Batches of events: the shape DuckDB hands them over in, and pure functions to cut
rows into request-sized batches (used when a batch must be split). No I/O.

A row is one event as a plain tuple: (uuid, event_at, payload JSON, payload size in bytes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

Row = tuple[str, datetime, str, int]
UUID, EVENT_AT, PAYLOAD, SIZE = range(4)


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
        extra = row[SIZE] + 1 if batch else row[SIZE]  # a comma before every row but the first
        if batch and (len(batch) >= max_events or size + extra > max_bytes):
            yield batch
            batch, size, extra = [], envelope_bytes, row[SIZE]
        batch.append(row)
        size += extra
    if batch:
        yield batch


def halves(batch: list[Row]) -> tuple[list[Row], list[Row]]:
    middle = len(batch) // 2
    return batch[:middle], batch[middle:]


def body_bytes(rows: list[Row]) -> int:
    """Size of the rows' JSON joined by commas."""
    return sum(row[SIZE] for row in rows) + len(rows) - 1


_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive pending events that DuckDB already joined into one JSON array body
    (events separated by commas), with what the ledger needs. Python touches single
    events only when a batch must be split (too big, or refused with a 400)."""

    uuids: str                 # comma-separated, in order
    payloads: str              # the events' JSON objects joined by ","
    char_lengths: str          # comma-separated length of each event's JSON, in characters
    event_ats: str             # comma-separated event times, epoch microseconds
    events: int
    payload_bytes: int         # UTF-8 bytes of all events' JSON, separators excluded
    largest_event_bytes: int
    first_event_at: datetime
    last_event_at: datetime

    @property
    def body_bytes(self) -> int:
        return self.payload_bytes + self.events - 1

    def rows(self) -> list[Row]:
        rows: list[Row] = []
        position = 0
        for uuid, length, micros in zip(
            self.uuids.split(","), self.char_lengths.split(","), self.event_ats.split(",")
        ):
            payload = self.payloads[position:position + int(length)]
            position += int(length) + 1
            rows.append((uuid, _EPOCH + timedelta(microseconds=int(micros)), payload, len(payload.encode())))
        return rows
