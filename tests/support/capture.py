"""A PostHog- and Segment-compatible endpoint on 127.0.0.1, for the demo, the tests and benchmarks.

It answers `POST /batch/` the way PostHog's capture service does (shared/REFERENCE.md):
gzip bodies, 401 for a wrong `api_key`, 400 for an empty batch or an event without a name
or distinct_id, 200 `{"status": 1}` otherwise. It answers `POST /v1/batch` the way Segment's
Tracking API does: HTTP Basic auth with the write key (401 otherwise), 400 for a body over
500 KB or a message over 32 KB, and 200 for the rest, where a batch of more than 2,500
messages, or a message with no userId/anonymousId (or a track with no event), is silently
dropped; every such limit breach is also noted in `violations` for tests to check. Tests can script faults: a queue of answers
to give before the normal one (a status code, optional headers, or "reset" to drop the
connection), uuids to refuse with 400, and added latency.

Run it alone: `python -m tests.support.capture --port 8000 --api-key phc_demo --out received.jsonl`.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
import orjson
from isal import isal_zlib


@dataclass
class Fault:
    status: int | str                      # an HTTP status, or "reset" to close the connection
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"type":"server_error"}'


class CaptureState:
    """What the server received and how it should misbehave. Thread-safe."""

    def __init__(self, api_key: str, out: Path | None = None) -> None:
        self.api_key = api_key
        self.out = out
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []   # one entry per request: time, status, events
        self.faults: deque[Fault] = deque()
        self.refuse_uuids: set[str] = set()
        self.latency_seconds = 0.0
        self.keep_events = True
        self.outage_after: int | None = None   # answer 503 once this many requests were accepted
        self.accepted_requests = 0
        self.received_events = 0
        self.write_key = api_key               # Segment: the Basic-auth user name it accepts
        self.violations: list[str] = []        # Segment limits broken by a client
        self.dropped: list[dict[str, Any]] = []  # Segment: messages answered 200 but not kept

    def script(self, *faults: Fault | int | str) -> None:
        with self.lock:
            for fault in faults:
                self.faults.append(fault if isinstance(fault, Fault) else Fault(fault))

    def next_fault(self) -> Fault | None:
        with self.lock:
            if self.faults:
                return self.faults.popleft()
            if self.outage_after is not None and self.accepted_requests >= self.outage_after:
                return Fault(503)
            return None

    def accept(self, events: list[Any]) -> None:
        with self.lock:
            self.accepted_requests += 1
            self.received_events += len(events)
            if self.keep_events:
                self.events.extend(events)
            if self.out:
                with self.out.open("a", encoding="utf-8") as handle:
                    for event in events:
                        handle.write(json.dumps(event, ensure_ascii=False) + "\n")

    def log(self, status: int | str, count: int, **details: Any) -> None:
        with self.lock:
            self.requests.append({"at": time.monotonic(), "status": status, "events": count, **details})


class _Event(msgspec.Struct):
    """What capture checks in an event. `properties` is kept as raw JSON, not decoded: only an
    event with no top-level distinct_id needs to look inside."""

    event: Any = None
    distinct_id: Any = None
    uuid: Any = None
    properties: msgspec.Raw = msgspec.Raw(b"null")


class _Envelope(msgspec.Struct):
    api_key: Any = None
    historical_migration: Any = None
    batch: list[_Event] | None = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode


def _problem(event: _Event) -> str | None:
    if not event.event:
        return "event has no name"
    if not event.distinct_id:
        props = msgspec.json.decode(event.properties)
        if not (isinstance(props, dict) and props.get("distinct_id")):
            return "event has no distinct_id"
    return None


class _Handler(BaseHTTPRequestHandler):
    server: "CaptureServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Answers go out as small writes; without this, Nagle's algorithm and the client's
        # delayed ACK add ~40 ms to every keep-alive request, which real capture servers don't.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") != "/stats":
            self._answer(404, '{"error":"not found"}')
            return
        state = self.server.state
        with state.lock:
            stats = {"requests": len(state.requests), "events": state.received_events}
        self._answer(200, json.dumps(stats))

    def do_POST(self) -> None:  # noqa: N802
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if state.latency_seconds:
            time.sleep(state.latency_seconds)
        if self.path.rstrip("/") not in ("/batch", "/capture", "/v1/batch", "/v1/import"):
            self._answer(404, '{"error":"not found"}')
            return
        fault = state.next_fault()
        if fault is not None:
            state.log(fault.status, 0)
            if fault.status == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()
                return
            self._answer(int(fault.status), fault.body, fault.headers)
            return
        if self.path.startswith("/v1/"):
            status, body, events, details = self._check_segment(raw)
            state.log(status, len(events), **details)
            if status == 200:
                state.accept(events)
            self._answer(status, body)
            return
        gzipped = raw[:2] == b"\x1f\x8b"
        status, body, events, historical = self._check(raw)
        state.log(status, len(events), gzip=gzipped, historical_migration=historical)
        if status == 200:
            state.accept(events)
        self._answer(status, body)

    def _check(self, raw: bytes) -> tuple[int, str, list[Any], Any]:
        """PostHog's checks. The events come back as dicts if the server keeps them, else as
        `_Event`s: a benchmark's server only counts them, and decoding every event's
        properties would double its CPU, taken from the same two cores as the client's. (So a
        counting server does not notice invalid UTF-8 inside properties; a keeping one does.)"""
        state = self.server.state
        try:
            if self.headers.get("Content-Encoding") == "gzip" or raw[:2] == b"\x1f\x8b":
                raw = isal_zlib.decompress(raw, 47)  # 47: gzip or zlib header
            payload = _decode_envelope(raw)
        except (isal_zlib.error, msgspec.ValidationError) as exc:
            return 400, json.dumps({"type": "validation_error", "detail": f"invalid body: {exc}"}), [], None
        except msgspec.DecodeError:
            return 400, '{"type":"validation_error","detail":"invalid JSON"}', [], None
        if payload.api_key != state.api_key:
            return 401, '{"type":"authentication_error","detail":"invalid api key"}', [], None
        historical = payload.historical_migration
        if not payload.batch:
            return 400, '{"type":"validation_error","detail":"empty batch"}', [], historical
        for event in payload.batch:
            problem = _problem(event)
            if problem is None and isinstance(event.uuid, str) and event.uuid in state.refuse_uuids:
                problem = f"event {event.uuid} refused"
            if problem:
                return 400, json.dumps({"type": "validation_error", "detail": problem}), [], historical
        if not (state.keep_events or state.out):
            return 200, '{"status":1}', payload.batch, historical  # counted only (see the docstring)
        try:
            events = orjson.loads(raw)["batch"]
        except ValueError:  # what msgspec does not look at: invalid UTF-8 inside properties
            return 400, '{"type":"validation_error","detail":"invalid JSON"}', [], historical
        return 200, '{"status":1}', events, historical

    def _check_segment(self, raw: bytes) -> tuple[int, str, list[dict[str, Any]], dict[str, Any]]:
        state = self.server.state
        expected = "Basic " + base64.b64encode(f"{state.write_key}:".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return 401, '{"error":"invalid write key"}', [], {}
        if len(raw) > 500_000:
            with state.lock:
                state.violations.append(f"request of {len(raw)} bytes")
            return 400, '{"error":"request too large"}', [], {}
        try:
            payload = orjson.loads(raw)
        except ValueError:
            return 400, '{"error":"invalid JSON"}', [], {}
        batch = payload.get("batch") if isinstance(payload, dict) else None
        if not isinstance(batch, list):
            return 400, '{"error":"no batch"}', [], {}
        details = {"integrations": payload.get("integrations"), "content_type": self.headers.get("Content-Type")}
        for message in batch:
            size = len(orjson.dumps(message))
            if size > 32_000:
                with state.lock:
                    state.violations.append(f"message of {size} bytes")
                return 400, '{"error":"message too large"}', [], details
            if isinstance(message, dict) and message.get("messageId") in state.refuse_uuids:
                return 400, json.dumps({"error": f"message {message.get('messageId')} refused"}), [], details
        if len(batch) > 2_500:
            with state.lock:
                state.violations.append(f"batch of {len(batch)} messages")
                state.dropped.extend(batch)
            return 200, '{"success":true}', [], details
        kept = []
        for message in batch:
            usable = isinstance(message, dict) and (message.get("userId") or message.get("anonymousId")) and (
                message.get("type") != "track" or message.get("event")
            )
            (kept if usable else state.dropped).append(message)
        return 200, '{"success":true}', kept, details


class CaptureServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: CaptureState, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "CaptureServer":
        threading.Thread(target=self.serve_forever, name="local-capture", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="PostHog-compatible capture endpoint on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", required=True, help="the key the server accepts")
    parser.add_argument("--out", type=Path, help="append accepted events to this JSONL file")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    # Each request parses up to thousands of events into short-lived dicts; with the default
    # gc thresholds, parsing a batch triggers repeated collections of the batch being parsed
    # (about 40% of this server's CPU in the benchmark). The objects hold no cycles.
    gc.set_threshold(10_000, 10, 10)
    state = CaptureState(args.api_key, args.out)
    state.latency_seconds = args.latency_ms / 1000
    state.keep_events = False
    server = CaptureServer(state, args.port)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
