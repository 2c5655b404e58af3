"""Run a command as a child and print its wall time and peak RSS as JSON on the last line.

Peak RSS is the process tree's: the command and every process it starts (dbt's threads are in
its process; `sync push`'s endpoint is not its child), summed, sampled every 20 ms from /proc.
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


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(name))
    return tree


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
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo.extend(tree.get(pid, []))
    return total


def run(command: list[str], **kwargs) -> dict:
    started = time.perf_counter()
    child = subprocess.Popen(command, **kwargs)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
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
