"""Rate limits shared by every in-flight request.

One schedule for all workers: each request books its start time under a lock, no earlier
than (a) the previous request's start + 60 / requests-per-minute, (b) the previous
request's start + its events / events-per-second, (c) any pause a 429's Retry-After set;
then it sleeps outside the lock. So in any window of W seconds at most
requests_per_minute x W / 60 + 1 requests start, and at most events_per_second x W
events plus one batch are sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Limits:
    def __init__(
        self,
        *,
        events_per_second: float | None = None,
        requests_per_minute: float | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (events_per_second is not None and events_per_second <= 0) or (
            requests_per_minute is not None and requests_per_minute <= 0
        ):
            raise ValueError("rate limits must be positive")
        self.seconds_per_event = 1.0 / events_per_second if events_per_second else 0.0
        self.seconds_per_request = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self.sleep = sleep
        self.clock = clock
        self.lock = threading.Lock()
        self.next_start = clock()
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Every worker waits at least `seconds` from now before its next request."""
        with self.lock:
            self.paused_until = max(self.paused_until, self.clock() + seconds)

    def wait(self, events: int) -> None:
        """Block until a request carrying `events` events may start."""
        with self.lock:
            now = self.clock()
            start = max(now, self.next_start, self.paused_until)
            self.next_start = start + max(self.seconds_per_request, events * self.seconds_per_event)
        if start > now:
            self.sleep(start - now)
