"""Sending one batch: a Worker joins the batch's JSON into a request body and hands it to a
transport (HTTP for a push, files for a dry run), looking at single events only when it must:
an event over the size limit, a body over the request limit, or a refusal, which it halves
until the refused events are isolated. A worker touches no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sync.batching import PAYLOAD, UUID, Batch, Row, halves, pack
from sync.destinations import Destination
from sync.warehouse import utcnow

if TYPE_CHECKING:
    from sync.http import Answer, Sender


@dataclass
class Request:
    """One request a worker made and the destination's final answer to it."""

    uuids: str                 # comma-separated
    events: int
    body_bytes: int
    first_event_at: datetime
    last_event_at: datetime
    status: int
    text: str
    attempts: int
    sent_at: datetime
    answered_at: datetime

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Failure:
    uuid: str
    http_status: int | None
    reason: str
    message: str
    request_index: int | None = None   # which Request refused it, if one did


@dataclass
class Outcome:
    requests: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class Transport(Protocol):
    def send(self, destination: Destination, payloads: bytes, events: int) -> "Answer": ...


class HttpTransport:
    """The destination's request over HTTP, through the one retry loop (sync.http)."""

    def __init__(self, sender: "Sender") -> None:
        self.sender = sender

    def send(self, destination: Destination, payloads: bytes, events: int) -> "Answer":
        return self.sender.send(
            destination.url, destination.body(payloads), destination.headers(), destination.auth(), events=events,
        )


class Worker:
    """Delivers one batch through a transport."""

    def __init__(self, destination: Destination, transport: Transport) -> None:
        self.destination = destination
        self.transport = transport

    def deliver(self, batch: Batch) -> Outcome:
        outcome = Outcome()
        payloads = batch.payloads
        fits = len(payloads) + self.destination.envelope_bytes() <= self.destination.max_body_bytes
        # no event can be larger than all of them together: most batches skip the per-event look
        limit = self.destination.max_event_bytes
        small = len(payloads) <= limit or batch.largest_event_bytes <= limit
        if fits and small:
            self._send(batch, outcome, payloads)
            return outcome
        # The slow path: look at single events.
        sendable = []
        for row in batch.rows:
            if len(row[PAYLOAD]) > limit:
                outcome.failures.append(
                    Failure(row[UUID], None, self.destination.too_large_reason, f"{len(row[PAYLOAD])} bytes exceeds {limit}")
                )
            else:
                sendable.append(row)
        for rows in pack(
            sendable,
            max_events=batch.events,
            max_bytes=self.destination.max_body_bytes,
            envelope_bytes=self.destination.envelope_bytes(),
        ):
            self._send(Batch(rows), outcome)
        return outcome

    def _send(self, batch: Batch, outcome: Outcome, payloads: bytes | None = None) -> None:
        """Send one request carrying `batch` (its JSON already joined, if given); on a
        refusal, isolate the refused events."""
        payloads = batch.payloads if payloads is None else payloads
        sent_at = utcnow()
        answer = self.transport.send(self.destination, payloads, batch.events)
        request = Request(
            batch.uuids, batch.events, len(payloads), batch.first_event_at, batch.last_event_at,
            answer.status, answer.text, answer.attempts, sent_at, utcnow(),
        )
        outcome.requests.append(request)
        if not request.accepted:
            self._refused(batch.rows, request, outcome)

    def _refused(self, rows: list[Row], request: Request, outcome: Outcome) -> None:
        """A 400 (or other final refusal): isolate the refused events by halving."""
        if len(rows) == 1:
            outcome.failures.append(
                Failure(rows[0][UUID], request.status, "refused", request.text, request_index=len(outcome.requests) - 1)
            )
            return
        for half in halves(rows):
            self._send(Batch(half), outcome)
