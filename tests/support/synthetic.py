"""Synthetic but realistic Mixpanel raw exports, for the demo, the tests and benchmarks.

The export looks like Mixpanel's: JSON lines `{"event", "properties": {...}}` with
`time` in seconds (newer projects' exports carry milliseconds), `$insert_id`, Mixpanel's
geo and library properties, nested values and Unicode. It also carries what real exports
carry: the same event exported twice, records with no usable id, unparsable times, a
truncated line and a blank line. `Manifest` says what a correct pipeline must make of it,
computed here in Python independently of the dbt models.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

POSTHOG_MIXPANEL_NAMESPACE = uuid.UUID(bytes=b"posthog_mixpanel")

EVENT_NAMES = ["$mp_web_page_view", "Viewed Item", "Added To Cart", "Purchase", "Signed Up", "Searched"]
CITIES = [("Paris", "Île-de-France", "FR"), ("São Paulo", "São Paulo", "BR"), ("Tōkyō", "Tokyo", "JP"),
          ("Zürich", "Zurich", "CH"), ("Austin", "Texas", "US"), ("Kraków", "Lesser Poland", "PL")]
SEARCHES = ["red shoes", "café au lait", "日本語の本", "🎉 party", "naïve résumé", "größe 42"]


@dataclass
class Manifest:
    lines: int = 0
    expected_uuids: set[str] = field(default_factory=set)
    duplicates: int = 0
    malformed_lines: int = 0
    rejected: Counter = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.expected_uuids)


def mixpanel_uuid(insert_id: str) -> str:
    return str(uuid.uuid5(POSTHOG_MIXPANEL_NAMESPACE, insert_id))


def write_mixpanel_export(
    directory: Path,
    *,
    events: int = 10_000,
    files: int = 3,
    days: int = 60,
    seed: int = 7,
    start: datetime = datetime(2024, 1, 1, tzinfo=timezone.utc),
) -> Manifest:
    """Write `events` distinct valid events, plus anomalies, spread over `files` files
    (the last one gzipped). Returns what a correct import must produce."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = Manifest()
    lines: list[str] = []
    users = [f"user-{n:05d}" for n in range(max(10, events // 20))]

    for n in range(events):
        at = start + timedelta(seconds=rng.uniform(0, days * 86400))
        city, region, country = rng.choice(CITIES)
        name = rng.choice(EVENT_NAMES)
        insert_id = f"{seed}-{n:08d}-{rng.getrandbits(32):08x}"
        props: dict = {
            "time": int(at.timestamp()) if n % 3 else int(at.timestamp() * 1000),
            "distinct_id": rng.choice(users),
            "$insert_id": insert_id,
            "$browser": rng.choice(["Chrome", "Firefox", "Safari"]),
            "$os": rng.choice(["Mac OS X", "Windows", "iOS", "Android"]),
            "$current_url": f"https://shop.example.com/{rng.choice(['', 'item/42', 'cart', 'recherche?q=été'])}",
            "$city": city,
            "$region": region,
            "mp_country_code": country,
            "mp_lib": "web",
            "$mp_api_endpoint": "api.mixpanel.com",
            "mp_processing_time_ms": rng.randint(1, 900),
            "$geo_source": "reverse_geocoding",
            "$mp_api_timestamp_ms": int(at.timestamp() * 1000) + rng.randint(0, 5000),
        }
        if name == "Purchase":
            props["cart"] = {"items": [{"sku": f"SKU-{rng.randint(1, 99)}", "qty": rng.randint(1, 3)}], "coupon": None}
            props["amount"] = round(rng.uniform(5, 500), 2)
        if name == "Searched":
            props["query"] = rng.choice(SEARCHES)
        if n % 50 == 7:  # identified by $user_id / $device_id only
            del props["distinct_id"]
            props["$user_id" if n % 100 == 7 else "$device_id"] = f"fallback-{n}"
        if n % 97 == 5:  # an event exported without $insert_id (uuid comes from its content)
            del props["$insert_id"]
        line = json.dumps({"event": name, "properties": props}, ensure_ascii=False)
        lines.append(line)
        if "$insert_id" in props:
            manifest.expected_uuids.add(mixpanel_uuid(insert_id))
        else:
            # the rule: UUIDv5 over the record's compact JSON, whatever spacing the export used
            compact = json.dumps({"event": name, "properties": props}, ensure_ascii=False, separators=(",", ":"))
            manifest.expected_uuids.add(str(uuid.uuid5(POSTHOG_MIXPANEL_NAMESPACE, "backfill-content:" + compact)))
        if n % 40 == 3:  # exports are not deduplicated: the same event twice
            lines.append(line)
            manifest.duplicates += 1

    bad = max(4, events // 200)
    for n in range(bad):
        kind = n % 4
        at = int((start + timedelta(days=rng.uniform(0, days))).timestamp())
        if kind == 0:
            lines.append(json.dumps({"event": "Orphan", "properties": {"time": at, "distinct_id": ""}}))
            manifest.rejected["missing_distinct_id"] += 1
        elif kind == 1:
            lines.append(json.dumps({"event": "Bad Time", "properties": {"time": "not-a-time", "distinct_id": "u"}}))
            manifest.rejected["invalid_timestamp"] += 1
        elif kind == 2:
            lines.append(json.dumps({"properties": {"time": at, "distinct_id": "u"}}))
            manifest.rejected["missing_event_name"] += 1
        else:
            lines.append('{"event": "Truncated", "properties": {"time": 1700000000, "distinct_')
            manifest.malformed_lines += 1
    lines.append("")
    manifest.malformed_lines += 1  # a blank line

    rng.shuffle(lines)
    size = -(-len(lines) // files)
    for index in range(files):
        chunk = lines[index * size:(index + 1) * size]
        text = "".join(line + "\n" for line in chunk)
        if index == files - 1 and files > 1:
            path = directory / f"export-{index + 1:02d}.jsonl.gz"
            path.write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            path = directory / f"export-{index + 1:02d}.jsonl"
            path.write_text(text, encoding="utf-8")
        manifest.files.append(path)
    manifest.lines = len(lines)
    return manifest
