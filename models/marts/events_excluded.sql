{#
  One row per raw record that is deliberately not sent as an event: a Segment identify,
  group or alias message, or a source event listed in the `event_exclusions` seed (such as
  Amplitude's session_start). Identify traits still reach the persons model.
#}

with

excluded as (

    select * from {{ ref('int_events__validated') }}
    where exclusion_reason is not null

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

select * from final
