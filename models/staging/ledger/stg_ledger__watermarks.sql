{# One row per destination stream that was ever pushed (sync.watermarks). #}

select destination, loaded_through_load_id, last_event_at, updated_at
from {{ source('ledger', 'watermarks') }}
