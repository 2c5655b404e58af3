"""Every audit query the README shows runs as written, with the command the README gives."""

from __future__ import annotations

import re

from tests.support.helpers import REPO, push_env

README = (REPO / "README.md").read_text()


def readme_queries() -> list[str]:
    """The README's ```sql blocks (split into statements) and its `sync sql "..."` lines."""
    queries = [q.strip() for block in re.findall(r"```sql\n(.*?)```", README, re.S) for q in block.split(";")]
    queries += re.findall(r'^sync sql "((?:select|with) [^"]+)"', README, re.M)
    return [re.sub(r"^--.*$", "", q, flags=re.M).strip() for q in queries if q.strip()]


def test_the_readme_shows_its_audit_queries():
    queries = readme_queries()
    assert len(queries) >= 3 and any("sync_reconciliation" in q for q in queries)


def test_every_readme_query_runs_with_sync_sql(small_warehouse, capture, cli):
    assert cli("push", "-d", "posthog", "--only", "events", "--no-progress", env=push_env(capture)).exit_code == 0
    for query in readme_queries():
        result = cli("sql", query, "--csv")
        assert result.exit_code == 0, (query, result.output)
        assert not result.output.startswith("error"), (query, result.output)


def test_sync_sql_prints_csv_and_refuses_writes_in_one_line(small_warehouse, cli):
    result = cli("sql", "select count(*) as events from events", "--csv")
    assert result.exit_code == 0 and result.output == "events\n6\n"
    refused = cli("sql", "delete from events")
    assert refused.exit_code == 1 and refused.output.startswith("error: warehouse: ")
    assert len(refused.output.strip().splitlines()) == 1
