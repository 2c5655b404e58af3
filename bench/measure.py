"""Run a command as a child and print its wall time and peak RSS as JSON on the last line.

Peak RSS is the process tree's: the command and every process it starts (dbt's threads are in
its process; `sync push`'s endpoint is not its child), summed, sampled every 50 ms from /proc.
`max_rss_mb` is the largest single child's peak as the kernel counts it (getrusage).

Usage: python bench/measure.py CMD [ARGS...]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time


def _children_of(pid: int) -> list[int]:
    """The children of `pid`, from /proc/PID/task/*/children (cheap: no scan of all of /proc)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo.extend(_children_of(pid))
    return total


def run(command: list[str], **kwargs) -> dict:
    started = time.perf_counter()
    child = subprocess.Popen(command, **kwargs)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, tree_rss_kb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = child.wait()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "seconds": seconds,
        "tree_rss_mb": peak / 1024,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "returncode": returncode,
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1:])))
