"""`sync report`: a self-contained HTML page, loaded in headless Chromium (Debian's chromium,
which `make test` installs) to check that its charts render and its numbers agree with the ledger."""

from __future__ import annotations

import re
import shutil
import subprocess

import duckdb
import pytest

from tests.support.helpers import push_env, query

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(page, tmp_path) -> str:
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_report_renders_its_charts_and_numbers_in_chromium(small_warehouse, capture, cli, tmp_path):
    con = duckdb.connect(str(small_warehouse))
    (refused,) = con.execute("select uuid from main.events order by event_at limit 1").fetchone()
    con.close()
    capture.state.refuse_uuids.add(refused)
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 1
    # make one day not reconcile: an event vanishes from the mart after the push
    con = duckdb.connect(str(small_warehouse))
    (lost_day,) = con.execute(
        "delete from main.events where uuid = (select uuid from main.events where uuid <> ? order by event_at desc limit 1) "
        "returning cast(event_at as date)", [refused]
    ).fetchone()
    con.close()

    page = tmp_path / "report.html"
    result = cli("report", "--out", str(page))
    assert result.exit_code == 0, result.output
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?https?:""", source)  # nothing fetched from the network

    dom = rendered_dom(page, tmp_path)
    body = re.search(r"<body[^>]*>", dom).group(0)
    charts = int(re.search(r'data-rendered-charts="(\d+)"', body).group(1))
    bars = int(re.search(r'data-rendered-bars="(\d+)"', body).group(1))
    assert charts == 3 and bars > 5  # per-day (one source), reasons, throughput; every bar laid out

    totals = re.search(r"<tr data-source=\"mixpanel\">(.*?)</tr>", dom).group(1)
    cells = [int(c.replace(",", "")) for c in re.findall(r"<td>([\d,]+)</td>", totals)]
    # raw, events, rejected, excluded, duplicates, delivered, failed, pending: the mart lost one
    # delivered event, so 4 of the 5 the ledger holds are still in it, and 15 != 5 + 7 + 2
    assert cells == [15, 5, 7, 0, 2, 4, 1, 0]
    assert query(small_warehouse, "select count(*) from sync.deliveries") == [(5,)]
    assert "refused (HTTP 400)" in dom
    unreconciled = re.search(r"<table id=\"unreconciled\".*?</table>", dom, re.S).group(0)
    assert str(lost_day) in unreconciled and "mixpanel" in unreconciled

    # a --retry-failed run shows as such in the throughput chart
    capture.state.refuse_uuids.clear()
    assert cli("push", "-d", "posthog", "--only", "events", "--retry-failed", "--no-progress", env=push_env(capture)).exit_code == 0
    assert cli("report", "--out", str(page)).exit_code == 0
    assert "posthog --retry-failed: completed, 1 sent" in page.read_text(encoding="utf-8")
