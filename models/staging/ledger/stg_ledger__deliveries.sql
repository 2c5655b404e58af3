{# One row per event (or person) a destination accepted (the sync.deliveries view). #}

select destination, uuid, run_id, batch_id, delivered_at
from {{ source('ledger', 'deliveries') }}
