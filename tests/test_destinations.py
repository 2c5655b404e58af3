"""The destination registry: each destination checks its own settings, and the marts each one
reads are the exposures dbt documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.destinations import DESTINATIONS, Settings, build, exposures_yaml
from sync.destinations.posthog import PostHog
from sync.destinations.segment import EU_HOST, US_HOST, Segment
from sync.errors import UsageError
from tests.support.helpers import with_module

EXPOSURES = Path(__file__).resolve().parents[1] / "models" / "exposures.yml"


def test_every_destination_has_its_exposures_and_no_other_exists():
    """models/exposures.yml is dbt's view of the registry: one exposure per destination and mart,
    written from the destinations themselves."""
    names = set(re.findall(r"^  - name: (\w+)$", EXPOSURES.read_text(), flags=re.M))
    assert names == {f"{name}_{mart}" for name in DESTINATIONS for mart in ("events", "persons", "identity_links", "groups")}
    assert EXPOSURES.read_text() == exposures_yaml(), "run: python -m sync.destinations > models/exposures.yml"


def test_a_destination_module_is_all_it_takes(tmp_path, monkeypatch):
    """A new module in sync/destinations is found, with nothing else to register."""
    import sync.destinations as package

    with_module(package, tmp_path, monkeypatch, "example", (
        "from sync.destinations.segment import Segment\n\n\n"
        "class Example(Segment):\n    name = 'example'\n    label = 'Example'\n\n\nDESTINATION = Example\n"
    ))
    assert "example" in package._discover()


def test_a_flag_of_another_destination_is_refused_naming_its_owner(monkeypatch):
    monkeypatch.setenv("POSTHOG_HOST", "https://us.i.posthog.com")
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
    with pytest.raises(UsageError, match=r"^--write-key, --region and --integrations are for --destination segment$"):
        build("posthog", Settings(write_key="k", region="eu", integrations="{}"))
    with pytest.raises(UsageError, match=r"^--api-key is for --destination posthog$"):
        build("segment", Settings(api_key="phc_x", write_key="k"))


def test_posthog_reads_flags_before_the_environment_and_checks_both(monkeypatch):
    monkeypatch.delenv("POSTHOG_HOST", raising=False)
    monkeypatch.delenv("POSTHOG_API_KEY", raising=False)
    with pytest.raises(UsageError, match=r"^no PostHog host: set \$POSTHOG_HOST"):
        build("posthog", Settings())
    with pytest.raises(UsageError, match=r"^PostHog host must start with http:// or https://"):
        build("posthog", Settings(host="us.i.posthog.com", api_key="phc_x"))
    with pytest.raises(UsageError, match=r"^no PostHog project API key: set \$POSTHOG_API_KEY or pass --api-key$"):
        build("posthog", Settings(host="https://us.i.posthog.com"))
    with pytest.raises(UsageError, match=r"has characters an API key cannot have$"):
        build("posthog", Settings(host="https://us.i.posthog.com", api_key="phc_\n"))
    monkeypatch.setenv("POSTHOG_HOST", "https://eu.i.posthog.com/")
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_env")
    chosen = build("posthog", Settings())
    assert isinstance(chosen, PostHog) and chosen.url == "https://eu.i.posthog.com/batch/"
    assert build("posthog", Settings(host="http://127.0.0.1:9")).url == "http://127.0.0.1:9/batch/"
    assert "phc_env" not in repr(chosen)


def test_segment_picks_its_host_from_host_region_environment_or_default(monkeypatch):
    monkeypatch.delenv("SEGMENT_HOST", raising=False)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", "wk")
    assert build("segment", Settings()).url == f"{US_HOST}/v1/batch"
    assert build("segment", Settings(region="eu")).url == f"{EU_HOST}/v1/batch"
    monkeypatch.setenv("SEGMENT_HOST", "http://127.0.0.1:9")
    assert build("segment", Settings()).url == "http://127.0.0.1:9/v1/batch"
    with pytest.raises(UsageError, match=r"^give either --host or --region, not both$"):
        build("segment", Settings(host="https://x", region="eu"))
    with pytest.raises(UsageError, match=r"^--integrations must be a JSON object"):
        build("segment", Settings(integrations="[1]"))
    with pytest.raises(UsageError, match=r"^--integrations is not valid JSON"):
        build("segment", Settings(integrations="{"))
    monkeypatch.delenv("SEGMENT_WRITE_KEY")
    with pytest.raises(UsageError, match=r"^no Segment write key: set \$SEGMENT_WRITE_KEY or pass --write-key$"):
        build("segment", Settings())


def test_every_destination_states_its_rules():
    """What the CLI, status and the dry run read from a destination rather than restate."""
    for destination in DESTINATIONS.values():
        assert destination.max_event_bytes < destination.max_body_bytes
        assert 1 <= destination.default_batch_size <= destination.max_events
        assert (destination.holds_recent is None) == (destination.holds_recent_why is None)
        assert (destination.default_events_per_second is None) == (destination.pace_guidance is None)
    assert PostHog.holds_recent.total_seconds() == 48 * 3600 and Segment.holds_recent is None
    assert PostHog.set_once and Segment.set_once is None
