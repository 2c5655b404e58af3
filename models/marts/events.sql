{#
  What `sync push` sends: one row per event, keyed by uuid. Incremental: a build adds the
  events of loads newer than the newest load already here. After changing a mapping, run
  `dbt build --full-refresh`; events already delivered are not sent again (the push ledger
  remembers them by uuid).
#}

{{
    config(
        materialized='incremental',
        unique_key='uuid',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

mapped as (

    select * from {{ ref('int_events__mapped') }}
    {% if is_incremental() %}
    where load_id > (select coalesce(max(load_id), 0) from {{ this }})
    {% endif %}

),

final as (

    select
        uuid,
        event,
        distinct_id,
        distinct_id_is_anonymous,
        timestamp,
        properties,
        event_at,
        source_system,
        source_event_id,
        source_event_name,
        load_id,
        line_number

    from mapped

)

select * from final
