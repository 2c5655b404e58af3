"""HTTP and the retry policy, in one place, for the push and for `sync extract`.

`decide()` is the whole policy: which answers are accepted, which are retried and after how
long, which stop the run. `Retrier.run()` is the one loop that applies it; its final answers
are typed errors (KeyRefused, WrongEndpoint, HostNotFound, RetriesExhausted) that each caller
words for its own work. `Sender` posts request bodies through it.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from datetime import timezone

import requests
import requests.adapters

from sync.errors import DestinationError, Interrupted, SyncError
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


class Action(str, Enum):
    """What to do with an answer."""

    ACCEPT = "accept"   # the destination took it
    RETRY = "retry"     # try again after `delay`
    REJECT = "reject"   # the content was refused: the caller isolates what was refused
    STOP = "stop"       # nothing retrying can mend: `why` says what

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Decision:
    action: Action
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
        return Decision(Action.ACCEPT)
    if status in (401, 403):
        return Decision(Action.STOP, why="key")
    if status is None or status in RETRYABLE_STATUS:
        hinted = parse_retry_after(retry_after)
        return Decision(Action.RETRY, hinted if hinted is not None else backoff(attempt))
    if status in REFUSED_CONTENT:
        return Decision(Action.REJECT)   # the content was refused: the push isolates the events
    return Decision(Action.STOP, why="endpoint")   # 404, 405, ...: a wrong host or path, not bad events


@dataclass(frozen=True)
class Reply:
    """One attempt's answer: the status (None when no answer came: connection refused or
    reset, timeout), the start of the body or what went wrong, and Retry-After if any."""

    status: int | None
    text: str = ""
    retry_after: str | None = None


class Terminal(SyncError):
    """An answer that retrying cannot change; the caller says what it means for its work."""

    def __init__(self, url: str, reply: Reply, attempts: int, elapsed: float = 0.0) -> None:
        super().__init__(f"{url}: {reply.status or reply.text}")
        self.url, self.reply, self.attempts, self.elapsed = url, reply, attempts, elapsed

    @property
    def last(self) -> str:
        return f"HTTP {self.reply.status}" if self.reply.status is not None else self.reply.text


class UnusableURL(SyncError):
    """A URL requests cannot use at all (no scheme, bad characters)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


class KeyRefused(Terminal):
    """401 or 403: the credentials were refused."""


class WrongEndpoint(Terminal):
    """404, 405, ...: not the API we expected (a wrong host or path), not bad content."""


class HostNotFound(Terminal):
    """The host name does not resolve."""


class RetriesExhausted(Terminal):
    """Still failing when the next wait would pass the retry budget."""


def new_session(connections: int = 10) -> requests.Session:
    """A requests Session with one pooled keep-alive connection per request in flight."""
    made = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(10, connections))
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def attempt(
    url: str, make: Callable[[], requests.Response], read: Callable[[requests.Response], str] | None = None
) -> Reply:
    """Make one request to `url` and turn what happened into a Reply; `read` (default: the
    first 1000 characters of the body) may consume the response, e.g. store it. A URL requests
    cannot use raises UnusableURL at once."""
    try:
        response = make()
        with response:
            return Reply(response.status_code, (read or _start_of_body)(response), response.headers.get("Retry-After"))
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema) as exc:
        raise UnusableURL(url, str(exc)) from None
    except (requests.RequestException, OSError, EOFError) as exc:
        return Reply(None, _describe(exc))


def _start_of_body(response: requests.Response) -> str:
    return response.text[:1000]


class Retrier:
    """The one retry loop, for every request backfill makes (push and extract): try, apply
    `decide()`, wait (sharing the rate limits: a 429 pauses every request), and stop with a
    typed error when the answer is final or the budget is spent."""

    def __init__(
        self,
        *,
        max_retry_seconds: float = 600.0,
        sleep: Callable[[float], object] = time.sleep,
        stopped: Callable[[], bool] = lambda: False,
        limits: Limits | None = None,
        on_retry: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_retry_seconds = max_retry_seconds
        self.sleep = sleep
        self.stopped = stopped
        self.limits = limits or Limits()
        self.on_retry = on_retry   # told, in one line, about every retry: a run is never silently stuck
        self.clock = clock

    def run(self, url: str, try_once: Callable[[], Reply], *, cost: int = 1) -> tuple[Reply, Decision, int]:
        """Until the answer is accepted or refused: (the last reply, its decision, attempts).
        `cost`: what one attempt counts against the events/s limit."""
        started = self.clock()
        tries = 0
        while True:
            tries += 1
            self.limits.wait(cost)
            reply = try_once()
            if reply.status is None and reply.text == "DNS lookup failed":
                raise HostNotFound(url, reply, tries)
            decision = decide(reply.status, reply.retry_after, tries)
            if decision.action in (Action.ACCEPT, Action.REJECT):
                return reply, decision, tries
            if decision.action is Action.STOP:
                raise (KeyRefused if decision.why == "key" else WrongEndpoint)(url, reply, tries)
            if reply.status == 429:
                self.limits.pause(decision.delay)
            elapsed = self.clock() - started
            if elapsed + decision.delay > self.max_retry_seconds:
                raise RetriesExhausted(url, reply, tries, elapsed)
            if self.on_retry is not None:
                last = f"HTTP {reply.status}" if reply.status is not None else reply.text
                self.on_retry(f"retrying: {url} gave {last} on attempt {tries}; next try in {decision.delay:.1f} s")
            self.sleep(decision.delay)
            if self.stopped():
                raise Interrupted(
                    f"interrupted while retrying {url} (last: {reply.text or reply.status}); nothing unaccepted was marked delivered"
                )


class Sender:
    """Posts bodies to one URL through the Retrier."""

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
        self.session = session or new_session(connections)
        self.retrier = Retrier(max_retry_seconds=max_retry_seconds, sleep=sleep, stopped=stopped, limits=limits, on_retry=on_retry)
        self._environment: dict[str, dict] = {}
        self._environment_lock = threading.Lock()

    def send(
        self, url: str, body: bytes, headers: dict[str, str], auth: tuple[str, str] | None = None, *, events: int = 1
    ) -> Answer:
        """Post `body` until the destination accepts or refuses it; raises DestinationError
        for a refused key, a wrong host, or when the retry budget is spent."""
        settings = self._settings(url)

        def post() -> Reply:
            return attempt(url, lambda: self.session.post(url, data=body, headers=headers, auth=auth, timeout=self.timeout, **settings))

        try:
            reply, _, tries = self.retrier.run(url, post, cost=events)
        except UnusableURL as exc:
            raise DestinationError(f"cannot send to {url}: {exc.reason}") from None
        except HostNotFound:
            host = urllib.parse.urlsplit(url).hostname
            raise DestinationError(
                f"cannot resolve the host {host}: check --host (or the host variable); nothing was marked delivered"
            ) from None
        except KeyRefused as exc:
            raise DestinationError(
                f"{url} answered {exc.reply.status}: the key in ${self.key_env} (or the key flag) was refused; "
                "check it and the host, then rerun"
            ) from None
        except WrongEndpoint as exc:
            raise DestinationError(
                f"{url} answered {exc.reply.status}: is the host right? Nothing was marked delivered: fix --host and rerun"
            ) from None
        except RetriesExhausted as exc:
            raise DestinationError(
                f"gave up on {url} after {exc.attempts} attempts over {exc.elapsed:.0f}s (last: {exc.last}); "
                "nothing unaccepted was marked delivered: rerun `sync push` to resume"
            ) from None
        return Answer(reply.status or 0, reply.text, tries)

    def _settings(self, url: str) -> dict:
        """What requests takes from the environment for `url` (proxies, CA bundle), read
        once per run rather than on every request; the session then stops looking."""
        with self._environment_lock:
            if url not in self._environment:
                self.session.trust_env = True
                self._environment[url] = self.session.merge_environment_settings(url, {}, None, None, None)
                self.session.trust_env = False
            return self._environment[url]


def _describe(exc: Exception) -> str:
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
