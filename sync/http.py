"""HTTP sending and the retry policy, in one place.

`decide()` is the whole policy: which answers are accepted, which are retried and after
how long, which stop the run. `send()` applies it to one request body.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone

import requests
import requests.adapters

from sync.errors import DestinationError, Interrupted
from sync.ratelimit import Limits

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REFUSED_CONTENT = frozenset({400, 413, 422})   # the request reached the API, which refused what it carried
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    """What the destination finally said about one request."""

    status: int
    text: str
    attempts: int


@dataclass(frozen=True)
class Decision:
    action: str                 # "accept" | "retry" | "reject" | "stop"
    delay: float = 0.0          # seconds to wait before a retry
    why: str = ""               # for "stop": "key" (401/403) or "endpoint" (not the API we expected)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with equal jitter: a wait drawn between half and all of a ceiling
    that is 0.5 s for attempt 1 and doubles each attempt, up to 30 s."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def decide(status: int | None, retry_after: str | None, attempt: int) -> Decision:
    """The retry policy. `status` is None when the request failed before an answer
    (connection refused or reset, timeout, DNS)."""
    if status is not None and 200 <= status < 300:
        return Decision("accept")
    if status in (401, 403):
        return Decision("stop", why="key")
    if status is None or status in RETRYABLE_STATUS:
        hinted = parse_retry_after(retry_after)
        return Decision("retry", hinted if hinted is not None else backoff(attempt))
    if status in REFUSED_CONTENT:
        return Decision("reject")   # the content was refused: the push isolates the events
    return Decision("stop", why="endpoint")   # 404, 405, ...: a wrong host or path, not bad events


class Sender:
    """Posts bodies to one URL with retries, within a total retry-time budget."""

    def __init__(
        self,
        *,
        key_env: str,
        timeout: float = 30.0,
        max_retry_seconds: float = 600.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
        stopped: Callable[[], bool] = lambda: False,
        limits: Limits | None = None,
        connections: int = 10,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.key_env = key_env
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        if session is None:
            # one pooled keep-alive connection per request in flight
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(10, connections))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self._environment: dict[str, dict] = {}
        self._environment_lock = threading.Lock()
        self.sleep = sleep
        self.stopped = stopped
        self.limits = limits or Limits()
        self.on_retry = on_retry   # told, in one line, about every retry: a run is never silently stuck

    def send(
        self, url: str, body: bytes, headers: dict[str, str], auth: tuple[str, str] | None = None, *, events: int = 1
    ) -> Answer:
        """Post `body` until the destination accepts or rejects it; raises DestinationError
        for a refused key or when the retry budget is spent."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.limits.wait(events)
            status: int | None = None
            retry_after = None
            text = ""
            try:
                response = self.session.post(
                    url, data=body, headers=headers, auth=auth, timeout=self.timeout, **self._settings(url)
                )
                status, text = response.status_code, response.text[:1000]
                retry_after = response.headers.get("Retry-After")
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                    requests.exceptions.MissingSchema) as exc:
                raise DestinationError(f"cannot send to {url}: {exc}") from None
            except requests.RequestException as exc:
                text = _describe(exc)
                if text == "DNS lookup failed":
                    host = urllib.parse.urlsplit(url).hostname
                    raise DestinationError(
                        f"cannot resolve the host {host}: check --host (or the host variable); nothing was marked delivered"
                    ) from None
            decision = decide(status, retry_after, attempt)
            if decision.action == "accept" or decision.action == "reject":
                return Answer(status or 0, text, attempt)
            if decision.action == "stop" and decision.why == "key":
                raise DestinationError(
                    f"{url} answered {status}: the key in ${self.key_env} (or the key flag) was refused; "
                    "check it and the host, then rerun"
                )
            if decision.action == "stop":
                raise DestinationError(
                    f"{url} answered {status}: is the host right? Nothing was marked delivered: "
                    "fix --host and rerun"
                )
            if status == 429 and retry_after is not None:
                self.limits.pause(decision.delay)
            elapsed = time.monotonic() - started
            if elapsed + decision.delay > self.max_retry_seconds:
                what = f"HTTP {status}" if status is not None else text
                raise DestinationError(
                    f"gave up on {url} after {attempt} attempts over {elapsed:.0f}s (last: {what}); "
                    "nothing unaccepted was marked delivered: rerun `sync push` to resume"
                )
            if self.on_retry is not None:
                what = f"HTTP {status}" if status is not None else text
                self.on_retry(f"retrying: {url} gave {what} on attempt {attempt}; next try in {decision.delay:.1f} s")
            self.sleep(decision.delay)
            if self.stopped():
                raise Interrupted(f"interrupted while retrying {url} (last: {text or status}); nothing unaccepted was marked delivered")


    def _settings(self, url: str) -> dict:
        """What requests takes from the environment for `url` (proxies, CA bundle), read
        once per run rather than on every request; the session then stops looking."""
        with self._environment_lock:
            if url not in self._environment:
                self.session.trust_env = True
                self._environment[url] = self.session.merge_environment_settings(url, {}, None, None, None)
                self.session.trust_env = False
            return self._environment[url]


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectionError):
        reason = str(exc)
        if "Name or service not known" in reason or "nodename nor servname" in reason or "NameResolution" in reason:
            return "DNS lookup failed"
        if "refused" in reason.lower():
            return "connection refused"
        if "reset" in reason.lower() or "aborted" in reason.lower():
            return "connection reset"
        return "connection error"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return type(exc).__name__
