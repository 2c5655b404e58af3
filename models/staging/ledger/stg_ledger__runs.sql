{#
  One row per push run (sync.runs), as the audit views read it. `retry_failed` is false for
  runs of a ledger from before `sync` recorded it (the next `sync` that writes adds the column).
#}

{%- set run_columns = adapter.get_columns_in_relation(source('ledger', 'runs')) | map(attribute='name') | list if execute else [] %}

select
    run_id,
    destination,
    started_at,
    finished_at,
    outcome,
    {% if 'retry_failed' in run_columns -%}
    coalesce(retry_failed, false) as retry_failed,
    {%- else -%}
    false as retry_failed,
    {%- endif %}
    message,
    events_pending,
    events_delivered,
    events_failed,
    batches

from {{ source('ledger', 'runs') }}
