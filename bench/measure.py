"""Run a command as a child and print its wall time and peak RSS as JSON on the last line.

Usage: python bench/measure.py CMD [ARGS...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

started = time.perf_counter()
result = subprocess.run(sys.argv[1:])
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "max_rss_mb": peak_kb / 1024, "returncode": result.returncode}))
