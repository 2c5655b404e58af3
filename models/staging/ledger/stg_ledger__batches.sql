{# One row per request a push made (sync.batches) and the destination's final answer. #}

select
    batch_id,
    run_id,
    destination,
    batch_number,
    events,
    body_bytes,
    first_event_at,
    last_event_at,
    status,
    http_status,
    attempts,
    response,
    sent_at,
    answered_at

from {{ source('ledger', 'batches') }}
