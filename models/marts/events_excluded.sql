{#
  One row per raw record that is deliberately not sent as an event: a Segment identify,
  group or alias message, or a source event listed in the `event_exclusions` seed (such as
  Amplitude's session_start). Identify traits still reach the persons model.
  Incremental by load: a build adds the rows of loads newer than the newest one here.
#}


{%- set new_loads = backfill.new_loads() %}

with

excluded as (

    select * from {{ ref('int_events__validated') }}
    where exclusion_reason is not null and {{ new_loads }}

),

final as (

    select
        source_system,
        load_id,
        line_number,
        file_path,
        exclusion_reason,
        uuid,
        source_event_name,
        distinct_id,
        event_at

    from excluded

)

select *, {{ backfill.build_id() }} as build_id from final
