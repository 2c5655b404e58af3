{#
  One row per raw record that collapsed into an earlier copy of the same event (same uuid),
  with a pointer to the copy that was kept.
  Incremental by load: a build adds the rows of loads newer than the newest one here.
#}


{%- set new_loads = backfill.new_loads() %}

with

copies as (

    select * from {{ ref('int_events__validated') }}
    where copy_number > 1 and {{ new_loads }}

),

final as (

    select
        source_system,
        load_id,
        line_number,
        file_path,
        uuid,
        kept_load_id,
        kept_line_number

    from copies

)

select *, {{ backfill.build_id() }} as build_id from final
