"""Exports in which people do what people do: browse anonymously, sign up, switch devices,
belong to companies and teams. Written for every source, with the truth the marts and the
destinations must show: which anonymous id belongs to which user, the people's properties,
the groups and their properties."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

# (anonymous id, known id, link type) that the exports show, each exactly once
LINKS = {
    ("amp-d1", "amp-ana", "identify"), ("amp-d2", "amp-ana", "identify"), ("amp-d3", "amp-bob", "identify"),
    ("mp-d1", "mp-cleo", "identify"), ("mp-d2", "mp-cleo", "identify"), ("mp-anon-7", "mp-dan", "identify"),
    ("seg-a1", "seg-eve", "identify"), ("seg-a2", "seg-eve", "identify"), ("seg-old", "seg-eve", "alias"),
    ("ga-p1", "ga-fay", "identify"), ("設備-9", "ünï-gus", "identify"),
}

# (group type, group key) → the group's latest properties across sources
GROUPS = {
    ("company", "acme"): {"industry": "tools", "name": "Acme Inc", "seats": 5},   # Amplitude, then a Segment group call
    ("company", "globex"): {"name": "Globex"},
    ("team", "t1"): {},
    ("company", "initech"): {},                                                  # Mixpanel, through the seed
}

# what the group_type_mappings seed needs for the Mixpanel export's groups
MIXPANEL_GROUP_SEED_ROW = "mixpanel,company_id,company\n"


def _lines(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def amplitude_export(directory: Path, name: str = "amplitude-people.zip", records: list[dict] | None = None) -> Path:
    def event(n: int, when: str, **fields) -> dict:
        return {"uuid": f"7e0a1c00-0000-4000-8000-0000000000{n:02d}", "event_type": "Song Played",
                "event_time": f"2023-01-{when}.000000", **fields}

    records = records if records is not None else [
        event(1, "01 10:00:00", device_id="amp-d1", event_type="[Amplitude] Page Viewed",
              event_properties={"[Amplitude] Page URL": "https://app.example/"}),
        event(2, "01 10:05:00", user_id="amp-ana", device_id="amp-d1", event_type="Sign Up",
              user_properties={"plan": "free", "initial_referrer": "https://news.example/ü", "initial_utm_source": "EMPTY"},
              groups={"company": ["acme"]}, group_properties={"company": {"acme": {"name": "Acme", "seats": 5}}}),
        event(3, "02 09:00:00", user_id="amp-ana", device_id="amp-d2", os_name="iOS", os_version="15.0", device_type="iOS",
              user_properties={"plan": "pro", "initial_referrer": "https://other.example/"}, groups={"company": ["acme"]}),
        event(4, "03 09:00:00", user_id="amp-ana", device_id="amp-d1"),                 # a pair seen before
        event(5, "03 12:00:00", user_id="amp-bob", device_id="amp-d3",
              groups={"company": ["globex"], "team": "t1"}, group_properties={"company": {"globex": {"name": "Globex"}}}),
        event(6, "03 12:01:00", user_id="amp-bob", device_id="amp-d3", event_type="[Amplitude] Element Clicked",
              country="Polska", city="Kraków", region="Małopolskie", ip_address="203.0.113.50"),
    ]
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("9/9_2023-01-01_10#0.json.gz", gzip.compress(_lines(records), mtime=0))
    return path


def mixpanel_export(directory: Path) -> Path:
    def event(n: int, day: int, name: str = "Song Played", **properties) -> dict:
        return {"event": name, "properties": {"time": 1672567200 + day * 86400 + n, "$insert_id": f"mp-people-{n}", **properties}}

    path = directory / "mixpanel-people.jsonl"
    path.write_bytes(_lines([
        event(1, 0, distinct_id="$device:mp-d1", **{"$device_id": "mp-d1"}),
        event(2, 0, "Sign Up", distinct_id="mp-cleo", company_id="initech", **{"$user_id": "mp-cleo", "$device_id": "mp-d1"}),
        event(3, 1, distinct_id="mp-cleo", **{"$user_id": "mp-cleo", "$device_id": "mp-d2"}),
        event(4, 1, distinct_id="ABC-123-DEF", **{"$distinct_id_before_identity": "mp-anon-7", "$user_id": "mp-dan"}),
        event(5, 2, distinct_id="ünï-gus", **{"$user_id": "ünï-gus", "$device_id": "設備-9"}),
    ]))
    return path


def segment_export(directory: Path) -> Path:
    def message(n: int, kind: str, when: str, **fields) -> dict:
        return {"type": kind, "messageId": f"seg-people-{n}", "timestamp": f"2023-01-{when}Z", **fields}

    path = directory / "segment-people.jsonl"
    path.write_bytes(_lines([
        message(1, "page", "02T08:00:00", anonymousId="seg-a1", properties={"url": "https://shop.example/"}),
        message(2, "identify", "02T08:05:00", anonymousId="seg-a1", userId="seg-eve", traits={"email": "eve@example.com"}),
        message(3, "track", "02T09:00:00", event="Order Completed", anonymousId="seg-a2", userId="seg-eve",
                context={"groupId": "acme"}),
        message(4, "alias", "03T08:00:00", previousId="seg-old", userId="seg-eve"),
        message(5, "group", "04T08:00:00", userId="seg-eve", groupId="acme", traits={"name": "Acme Inc", "industry": "tools"}),
    ]))
    return path


def ga4_export(directory: Path) -> Path:
    def row(n: int, **fields) -> dict:
        return {"event_name": "page_view", "event_timestamp": str(1672660800000000 + n * 1000000),
                "event_params": [{"key": "n", "value": {"int_value": n}}], **fields}

    path = directory / "ga4-people.json"
    path.write_bytes(_lines([row(1, user_pseudo_id="ga-p1"), row(2, user_pseudo_id="ga-p1", user_id="ga-fay")]))
    return path


def all_exports(directory: Path) -> dict[str, Path]:
    return {"amplitude": amplitude_export(directory), "mixpanel": mixpanel_export(directory),
            "segment": segment_export(directory), "ga4": ga4_export(directory)}
