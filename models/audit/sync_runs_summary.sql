{#
  One row per push run, newest first: what it set out to send, what it achieved, how long it
  took, how fast it went, and how often the destination pushed back (retries, refusals).
#}

with

runs as (

    select * from {{ ref('stg_ledger__runs') }}

),

batches as (

    select
        run_id,
        count(*) as requests,
        count(*) filter (where status = 'rejected') as requests_refused,
        cast(sum(attempts) - count(*) as bigint) as retries,
        cast(sum(body_bytes) as bigint) as body_bytes,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at

    from {{ ref('stg_ledger__batches') }}
    group by run_id

),

final as (

    select
        runs.run_id,
        runs.destination,
        runs.started_at,
        runs.finished_at,
        runs.outcome,
        runs.retry_failed,
        runs.message,
        runs.events_pending,
        runs.events_delivered,
        runs.events_failed,
        coalesce(batches.requests, 0) as requests,
        coalesce(batches.requests_refused, 0) as requests_refused,
        coalesce(batches.retries, 0) as retries,
        batches.body_bytes,
        batches.first_event_at,
        batches.last_event_at,
        epoch(runs.finished_at - runs.started_at) as seconds,
        round(runs.events_delivered / nullif(epoch(runs.finished_at - runs.started_at), 0), 1) as events_per_second

    from runs
    left join batches on batches.run_id = runs.run_id

)

select * from final
order by started_at desc
