{# The refusals that still stand (the sync.undelivered_failures view): failed events a destination has not accepted since. #}

select destination, uuid, run_id, batch_id, http_status, reason, message, failed_at
from {{ source('ledger', 'undelivered_failures') }}
