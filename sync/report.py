"""`sync report`: one self-contained HTML page (inline SVG and CSS, no network needed) that
shows, from the warehouse's audit views, whether what was exported is what arrived:
events per day per source (raw vs delivered), rejected and failed events by reason, push
throughput over the last runs, and every day whose counts do not reconcile."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Any

import duckdb

from sync.destinations import for_stream
from sync.errors import WarehouseError
from sync.warehouse import ledger_views, relation_exists, utcnow

PALETTE = ["#4f46e5", "#16a34a", "#ea580c", "#0891b2", "#c026d3", "#ca8a04"]
RAW_COLOR = "#9ca3af"
WIDTH = 920


def collect(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    for view in ("sync_reconciliation", "sync_runs_summary"):
        if not relation_exists(con, "main", view):
            raise WarehouseError(f"the warehouse has no `{view}` view yet: run `dbt build` first")
    rows = con.execute(
        """
        select source_system, event_date, destination, raw_records, events, rejected, excluded, duplicates,
               delivered, failed, pending, reconciles
        from sync_reconciliation order by source_system, event_date nulls last, destination
        """
    ).fetchall()
    keys = ("source", "day", "destination", "raw", "events", "rejected", "excluded", "duplicates",
            "delivered", "failed", "pending", "reconciles")
    days = [dict(zip(keys, row, strict=True)) for row in rows]
    rejected = con.execute(
        "select source_system, rejection_reason, count(*) from events_rejected group by all order by 3 desc"
    ).fetchall()
    failed = con.execute(
        f"""
        select destination, reason || coalesce(' (HTTP ' || http_status || ')', ''), count(distinct uuid)
        from {ledger_views(con)}
        group by all order by 3 desc
        """
    ).fetchall()
    runs = con.execute(
        """
        select run_id, destination, started_at, outcome, events_delivered, events_per_second, retries, retry_failed
        from sync_runs_summary order by started_at desc limit 20
        """
    ).fetchall()
    from sync import status as statusing   # what a push would hold back, counted as `sync status` counts it

    held = {d["destination"]: d["held"] for d in statusing.collect(con)["destinations"] if d.get("held")}
    streams = con.execute(
        "select destination, mart_rows, delivered, failed, pending from sync_streams order by destination"
    ).fetchall() if relation_exists(con, "main", "sync_streams") else []
    return {"days": days, "rejected": rejected, "failed": failed, "runs": list(reversed(runs)), "held": held,
            "streams": streams, "generated_at": utcnow()}


def render(data: dict[str, Any]) -> str:
    days = data["days"]
    sources = sorted({d["source"] for d in days})
    destinations = sorted({d["destination"] for d in days if d["destination"]})
    parts = [
        _head(),
        f"<h1>backfill audit report</h1><p class='muted'>Generated {data['generated_at']:%Y-%m-%d %H:%M} UTC from "
        "<code>sync_reconciliation</code> and <code>sync_runs_summary</code>. Each raw line is an event, "
        "rejected, excluded, or a collapsed duplicate; delivered, failed and pending are per destination.</p>",
        _totals(days, sources, destinations),
    ]
    for destination, held in sorted(data.get("held", {}).items()):
        rule = for_stream(destination)
        parts.append(
            f"<p class='held'>Held back from {html.escape(destination)}: {held:,} events newer than "
            f"{rule.holds_recent.total_seconds() / 3600:g} hours or dated in the future "
            f"({html.escape(rule.holds_recent_why)}; <code>sync push --allow-recent</code> sends them). "
            "The pending counts below include them.</p>"
        )
    parts.append("<h2>Events per day, by source: raw records vs delivered</h2>")
    for source in sources:
        parts.append(_per_day_chart(source, [d for d in days if d["source"] == source], destinations))
    parts.append("<h2>Every stream: persons, identity links, groups, events</h2>")
    parts.append(_streams_table(data.get("streams", [])))
    parts.append("<h2>Rejected and failed, by reason</h2>")
    bars = [(f"{source}: {reason}", n, "#dc2626") for source, reason, n in data["rejected"]]
    bars += [(f"{destination}: {reason}", n, "#f59e0b") for destination, reason, n in data["failed"]]
    parts.append(_hbar_chart("reasons", bars) if bars else "<p>Nothing rejected or failed.</p>")
    parts.append("<h2>Push throughput, last runs (events per second)</h2>")
    parts.append(_runs_chart(data["runs"]) if data["runs"] else "<p>No push has run yet.</p>")
    parts.append("<h2>Days that do not reconcile</h2>")
    parts.append(_days_table([d for d in days if not d["reconciles"]], "unreconciled",
                             "Every day reconciles: raw records = events + rejected + excluded + duplicates."))
    parts.append("<h2>Days with failed or pending events</h2>")
    parts.append(_days_table([d for d in days if (d["failed"] or 0) + (d["pending"] or 0) > 0], "unfinished",
                             "Nothing failed or pending."))
    parts.append(_render_check())
    return "\n".join(parts) + "\n</body></html>\n"


def _head() -> str:
    return """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>backfill audit report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:960px;color:#111827}
h1{font-size:22px}h2{font-size:17px;margin-top:32px}h3{font-size:14px;margin:16px 0 4px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:right}
th:first-child,td:first-child{text-align:left}.muted{color:#6b7280}.bad{color:#b91c1c;font-weight:600}
svg text{font-size:11px;fill:#374151}.legend span{display:inline-block;margin-right:14px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
</style></head><body>"""


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:,}"


def _totals(days: list[dict], sources: list[str], destinations: list[str]) -> str:
    head = "<tr><th>source</th><th>raw records</th><th>events</th><th>rejected</th><th>excluded</th><th>duplicates</th>"
    head += "".join(f"<th>delivered to {html.escape(d)}</th><th>failed</th><th>pending</th>" for d in destinations) + "</tr>"
    body = []
    for source in sources:
        rows = [d for d in days if d["source"] == source]
        first_destination = destinations[0] if destinations else None
        base = [d for d in rows if d["destination"] == first_destination]
        cells = [sum(d[k] for d in base) for k in ("raw", "events", "rejected", "excluded", "duplicates")]
        for destination in destinations:
            mine = [d for d in rows if d["destination"] == destination]
            cells += [sum(d[k] or 0 for d in mine) for k in ("delivered", "failed", "pending")]
        body.append(f"<tr data-source='{html.escape(source)}'><td>{html.escape(source)}</td>"
                    + "".join(f"<td>{_num(c)}</td>" for c in cells) + "</tr>")
    return f"<table id='totals'>{head}{''.join(body)}</table>"


def _buckets(rows: list[dict]) -> tuple[str, list[tuple[str, list[dict]]]]:
    """Days, or months when there are too many days to draw one bar each."""
    dated = [d for d in rows if d["day"] is not None]
    span = {d["day"] for d in dated}
    unit = "day" if len(span) <= 120 else "month"
    groups: dict[str, list[dict]] = defaultdict(list)
    for d in dated:
        key = d["day"].isoformat() if unit == "day" else d["day"].strftime("%Y-%m")
        groups[key].append(d)
    return unit, sorted(groups.items())


def _per_day_chart(source: str, rows: list[dict], destinations: list[str]) -> str:
    unit, groups = _buckets(rows)
    if not groups:
        return f"<h3>{html.escape(source)}</h3><p>No records with a usable time.</p>"
    first = destinations[0] if destinations else None
    series = [("raw records", RAW_COLOR, lambda g: sum(d["raw"] for d in g if d["destination"] == first))]
    for i, destination in enumerate(destinations):
        series.append((f"delivered to {destination}", PALETTE[i % len(PALETTE)],
                       lambda g, dest=destination: sum(d["delivered"] or 0 for d in g if d["destination"] == dest)))
    values = [[fn(g) for _, g in groups] for _, _, fn in series]
    top = max(1, *(v for vs in values for v in vs))
    height, left, bottom = 180, 48, 22
    plot_w = WIDTH - left - 10
    slot = plot_w / len(groups)
    bar = max(1.0, slot / (len(series) + 1))
    shapes = []
    for s, (label, color, _) in enumerate(series):
        for i, (key, _) in enumerate(groups):
            v = values[s][i]
            h = (height - bottom - 10) * v / top
            x = left + i * slot + s * bar
            y = height - bottom - h
            shapes.append(f"<rect class='bar' x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' height='{max(h, 0):.1f}' "
                          f"fill='{color}'><title>{html.escape(key)}: {v:,} {html.escape(label)}</title></rect>")
    axis = (f"<line x1='{left}' y1='{height - bottom}' x2='{WIDTH - 10}' y2='{height - bottom}' stroke='#9ca3af'/>"
            f"<text x='{left - 6}' y='16' text-anchor='end'>{top:,}</text>"
            f"<text x='{left - 6}' y='{height - bottom}' text-anchor='end'>0</text>"
            f"<text x='{left}' y='{height - 6}'>{html.escape(groups[0][0])}</text>"
            f"<text x='{WIDTH - 10}' y='{height - 6}' text-anchor='end'>{html.escape(groups[-1][0])}</text>")
    legend = "".join(f"<span><i class='swatch' style='background:{c}'></i>{html.escape(label)}</span>" for label, c, _ in series)
    return (f"<h3>{html.escape(source)} <span class='muted'>(one bar group per {unit})</span></h3>"
            f"<div class='legend'>{legend}</div>"
            f"<svg data-chart='per-day' data-source='{html.escape(source)}' width='{WIDTH}' height='{height}' "
            f"role='img' aria-label='{html.escape(source)} raw records and deliveries per {unit}'>{axis}{''.join(shapes)}</svg>")


def _hbar_chart(name: str, bars: list[tuple[str, int, str]]) -> str:
    row_h = 22
    label_w = min(520, 40 + 6.5 * max(len(label) for label, _, _ in bars))
    top = max(1, *(n for _, n, _ in bars))
    height = row_h * len(bars) + 6
    shapes = []
    for i, (label, n, color) in enumerate(bars):
        w = (WIDTH - label_w - 80) * n / top
        y = i * row_h + 3
        shapes.append(f"<text x='{label_w - 6}' y='{y + 14}' text-anchor='end'>{html.escape(label)}</text>"
                      f"<rect class='bar' x='{label_w}' y='{y}' width='{max(w, 1):.1f}' height='{row_h - 6}' fill='{color}'>"
                      f"<title>{html.escape(label)}: {n:,}</title></rect>"
                      f"<text x='{label_w + w + 6:.1f}' y='{y + 14}'>{n:,}</text>")
    return f"<svg data-chart='{name}' width='{WIDTH}' height='{height}' role='img' aria-label='counts by reason'>{''.join(shapes)}</svg>"


def _runs_chart(runs: list[tuple]) -> str:
    bars = []
    for _run_id, destination, started_at, outcome, delivered, per_second, retries, retry_failed in runs:
        kind = " --retry-failed" if retry_failed else ""
        label = f"{started_at:%Y-%m-%d %H:%M} {destination}{kind}: {outcome}, {delivered:,} sent, {retries} retries"
        bars.append((label, round(per_second or 0), "#4f46e5"))
    return _hbar_chart("throughput", bars)


def _days_table(rows: list[dict], name: str, empty: str) -> str:
    if not rows:
        return f"<p id='{name}-none'>{html.escape(empty)}</p>"
    head = ("<tr><th>source</th><th>day</th><th>destination</th><th>raw</th><th>events</th><th>rejected</th>"
            "<th>excluded</th><th>duplicates</th><th>delivered</th><th>failed</th><th>pending</th></tr>")
    body = "".join(
        f"<tr><td>{html.escape(d['source'])}</td><td>{d['day'] or 'no usable time'}</td>"
        f"<td>{html.escape(d['destination'] or '–')}</td>"
        + "".join(f"<td>{_num(d[k])}</td>" for k in ("raw", "events", "rejected", "excluded", "duplicates", "delivered", "failed", "pending"))
        + "</tr>"
        for d in rows
    )
    return f"<table id='{name}' class='bad'>{head}{body}</table>"


def _streams_table(rows: list[tuple]) -> str:
    """sync_streams: each pushed stream's rows, delivered, failed and pending."""
    if not rows:
        return "<p id='streams-none'>No stream has been pushed yet.</p>"
    head = "<tr><th>stream</th><th>rows</th><th>delivered</th><th>failed</th><th>pending</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{_num(n)}</td>" for n in counts) + "</tr>"
        for name, *counts in rows
    )
    return f"<table id='streams'>{head}{body}</table>"


def _render_check() -> str:
    """After layout, count the bars that have a drawn size: lets a headless browser test
    check that the charts really render (and shows nothing to a reader)."""
    return """<script>
document.addEventListener('DOMContentLoaded', () => {
  const drawn = [...document.querySelectorAll('svg rect.bar')].filter(r => r.getBBox().width > 0 && r.getBBox().height >= 0);
  document.body.dataset.renderedBars = String(drawn.length);
  document.body.dataset.renderedCharts = String(document.querySelectorAll('svg[data-chart]').length);
});
</script>"""

