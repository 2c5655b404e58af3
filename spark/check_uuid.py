"""Spike only: spark__uuid_v5 (run through dbt show --target spark) against Python's uuid.uuid5."""
import json, subprocess, sys, uuid

names = ["ins-001", "", "naïve 日本語 🎉", "backfill-content:{\"a\":1}", "O'Brien", "x" * 300]
rows = ", ".join("(%d, '%s')" % (i, n.replace("'", "''")) for i, n in enumerate(names))
inline = ("select i, {{ backfill.uuid_v5('posthog_mixpanel', 'name') }} as u, "
          "{{ backfill.uuid_v5('posthog_mixpanel', 'cast(null as string)') }} as u_null "
          "from values " + rows + " as t(i, name)")
out = subprocess.run(["dbt", "show", "--target", "spark", "--inline", inline, "--limit", "100",
                      "--output", "json", "--log-format", "json"], capture_output=True, text=True)
got = None
for line in out.stdout.splitlines():
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    preview = msg.get("data", {}).get("preview")
    if preview:
        got = json.loads(preview) if isinstance(preview, str) else preview
if got is None:
    sys.exit("no result:\n" + out.stdout[-3000:] + out.stderr[-2000:])
ns = uuid.UUID(bytes=b"posthog_mixpanel")
bad = 0
for row in sorted(got, key=lambda r: r["i"]):
    want = str(uuid.uuid5(ns, names[row["i"]]))
    ok = row["u"] == want and row["u_null"] is None
    bad += not ok
    print(("ok  " if ok else "BAD ") + repr(names[row["i"]][:30]), row["u"], want)
print(f"{len(got) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
