{#
  Every parsed record of every source, with the verdict on it:
  - rejection_reason: why it cannot be sent (null when it can);
  - copy_number: among valid records with the same uuid, 1 for the first landed
    (lowest load_id, then line), 2+ for copies that collapse into it.
#}

with

mixpanel as (

    select * from {{ ref('stg_mixpanel__events') }}

),

unioned as (

    select
        source_system,
        load_id,
        line_number,
        file_path,
        uuid,
        source_event_id,
        source_event_name,
        distinct_id,
        source_time,
        event_at,
        source_properties,
        source_record
    from mixpanel

),

judged as (

    select
        *,
        case
            when source_event_name is null then 'missing_event_name'
            when distinct_id is null then 'missing_distinct_id'
            when event_at is null or not {{ is_plausible_event_time('event_at') }} then 'invalid_timestamp'
        end as rejection_reason

    from unioned

),

final as (

    select
        *,
        case when rejection_reason is null then
            row_number() over (
                partition by uuid, rejection_reason is null
                order by load_id, line_number
            )
        end as copy_number,
        case when rejection_reason is null then
            first_value(load_id) over (
                partition by uuid, rejection_reason is null
                order by load_id, line_number
            )
        end as kept_load_id,
        case when rejection_reason is null then
            first_value(line_number) over (
                partition by uuid, rejection_reason is null
                order by load_id, line_number
            )
        end as kept_line_number

    from judged

)

select * from final
