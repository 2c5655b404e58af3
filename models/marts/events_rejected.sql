{#
  One row per raw line that will not be sent, with the reason and where it came from:
  lines `sync load` could not parse (malformed_line) and records that failed validation.
  Incremental by load: a build adds the rows of loads newer than the newest one here.
#}


{%- set new_loads = backfill.new_loads() %}

with

invalid_records as (

    select * from {{ ref('int_events__validated') }}
    where rejection_reason is not null and exclusion_reason is null and {{ new_loads }}

),

bad_lines as (

    select * from {{ ref('stg_landing__bad_lines') }}
    where {{ new_loads }}

),

final as (

    select
        source_system,
        load_id,
        line_number,
        file_path,
        rejection_reason,
        rejection_detail as detail,
        uuid,
        source_event_name,
        distinct_id,
        cast(source_record as {{ text_type() }}) as source_line

    from invalid_records

    union all

    select
        source_system,
        load_id,
        line_number,
        file_path,
        'malformed_line' as rejection_reason,
        detail,
        null as uuid,
        null as source_event_name,
        null as distinct_id,
        source_line

    from bad_lines

)

select *, {{ backfill.build_id() }} as build_id from final
