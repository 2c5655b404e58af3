"""Mixpanel- and Amplitude-compatible export endpoints on 127.0.0.1, serving fixture data,
with scripted faults, one per request: a status (with headers), "drop" to cut the connection
mid-download, or "ok" to answer normally. Mixpanel's Engage query API too (POST
/api/query/engage): profiles page by page in sessions, as Mixpanel pages them."""

from __future__ import annotations

import base64
import gzip
import io
import json
import socket
import threading
import time
import zipfile
from collections import deque
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlparse


class ExportServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, user: str, secret: str, events: list[dict], latency: float = 0.0,
        profiles: list[dict] | None = None, page_size: int = 1000,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.auth = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
        self.events = events
        self.profiles = profiles or []
        self.page_size = page_size
        self.sessions: dict[str, list[dict]] = {}   # Engage session id -> the profiles as of its first page
        self.session_ids = count(1)
        self.faults: deque = deque()
        self.requests: list[dict] = []
        self.latency = latency

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> ExportServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ExportServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        server.requests.append({"path": url.path, **params})
        answered, fault = self._gate()
        if answered:
            return
        if url.path == "/api/2.0/export":
            body, kind = self._mixpanel(params), "application/json"
        elif url.path == "/api/2/export":
            body, kind = self._amplitude(params), "application/zip"
            if body is None:
                return self._send(404, b"no data")
        else:
            return self._send(404, b"not found")
        self._deliver(body, kind, fault)

    def do_POST(self) -> None:
        """Engage: form fields project_id, session_id, page; one page of profiles per answer,
        from the profiles as they were when the session's first page was asked for."""
        server = self.server
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        server.requests.append({"path": url.path, "method": "POST", **form})
        answered, fault = self._gate()
        if answered:
            return
        if url.path != "/api/query/engage":
            return self._send(404, b"not found")
        if "session_id" in form:
            if form["session_id"] not in server.sessions:
                return self._send(400, b'{"error": "invalid session_id"}')
            session_id, page = form["session_id"], int(form.get("page", "0"))
        else:
            session_id, page = f"session-{next(server.session_ids)}", 0
            server.sessions[session_id] = list(server.profiles)
        snapshot = server.sessions[session_id]
        body = json.dumps({
            "page": page, "page_size": server.page_size, "session_id": session_id, "status": "ok",
            "total": len(snapshot), "results": snapshot[page * server.page_size:(page + 1) * server.page_size],
        }, ensure_ascii=False).encode()
        self._deliver(body, "application/json", fault)

    def _gate(self) -> tuple[bool, tuple | None]:
        """Latency, then the checks every request passes: (answered, fault). Answered when a
        wrong Authorization got its 401 or a scripted status was sent; fault ("drop",) when the
        answer is to be cut short."""
        server = self.server
        if server.latency:
            time.sleep(server.latency)
        if self.headers.get("Authorization") != server.auth:
            self._send(401, b'{"error": "unauthorized"}')
            return True, None
        fault = server.faults.popleft() if server.faults else None
        if fault == ("ok",):
            return False, None
        if fault is not None and fault[0] != "drop":
            self._send(fault[0], b'{"error": "scripted"}', fault[1] if len(fault) > 1 else {})
            return True, fault
        return False, fault

    def _deliver(self, body: bytes, kind: str, fault: tuple | None) -> None:
        if fault is not None:   # "drop": promise the whole body, send half, then cut the connection
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.connection.close()
            return
        self._send(200, body, {"Content-Type": kind})

    def _mixpanel(self, params: dict) -> bytes:
        first, last = date.fromisoformat(params["from_date"]), date.fromisoformat(params["to_date"])
        wanted = json.loads(params["event"]) if "event" in params else None
        lines = []
        for record in self.server.events:   # from_date and to_date are both inclusive, as Mixpanel's are
            day = datetime.utcfromtimestamp(record["properties"]["time"]).date()
            if first <= day <= last and (wanted is None or record["event"] in wanted):
                lines.append(json.dumps(record, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode() if lines else b""

    def _amplitude(self, params: dict) -> bytes | None:
        first = datetime.strptime(params["start"], "%Y%m%dT%H")
        last = datetime.strptime(params["end"], "%Y%m%dT%H") + timedelta(hours=1)
        by_hour: dict[str, list[str]] = {}
        for record in self.server.events:
            at = datetime.strptime(record["server_upload_time"][:19], "%Y-%m-%d %H:%M:%S")
            if first <= at < last:
                by_hour.setdefault(at.strftime("%Y-%m-%d_%H"), []).append(json.dumps(record, ensure_ascii=False))
        if not by_hour:
            return None
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            for hour, lines in sorted(by_hour.items()):
                zf.writestr(f"123/123_{hour}#0.json.gz", gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
        return archive.getvalue()

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def mixpanel_events(days: int, per_day: int, start: datetime = datetime(2024, 2, 27)) -> list[dict]:
    """Events spread over `days` days, including ones at 00:00:00 and 23:59:59 of each day."""
    events = []
    for d in range(days):
        base = int((start + timedelta(days=d) - datetime(1970, 1, 1)).total_seconds())
        offsets = [0, 86_399] + [int(86_400 * (i + 1) / (per_day - 1)) % 86_400 for i in range(per_day - 2)]
        for i, offset in enumerate(offsets):
            events.append({"event": "Viewed ü", "properties": {
                "time": base + offset, "distinct_id": f"user-{i}", "$insert_id": f"d{d}-i{i}", "n": i}})
    return events


def amplitude_events(hours: list[str], per_hour: int) -> list[dict]:
    events = []
    for h, hour in enumerate(hours):
        for i in range(per_hour):
            stamp = f"{hour}:{i:02d}:00.000000"
            events.append({"uuid": f"00000000-0000-4000-8000-{h:06d}{i:06d}", "event_type": "Played",
                           "user_id": f"u{i}", "event_time": stamp, "server_upload_time": stamp,
                           "event_properties": {"i": i}})
    return events


def mixpanel_profiles(n: int, start: datetime = datetime(2023, 1, 1)) -> list[dict]:
    """Engage records: `$last_seen` on most, only `$created` on every seventh, neither on every
    eleventh; Unicode values; nested properties."""
    profiles = []
    for i in range(n):
        properties: dict = {"$email": f"user{i}@example.com", "$name": f"Zoë Łucja {i} 🎉", "plan": ["free", "pro"][i % 2],
                            "nested": {"seats": i % 5, "tags": ["a", None]}}
        if i % 11 == 0:
            pass
        elif i % 7 == 0:
            properties["$created"] = (start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S")
        else:
            properties["$last_seen"] = (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S")
        profiles.append({"$distinct_id": f"user-{i}", "$properties": properties})
    return profiles
