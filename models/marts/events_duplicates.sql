{#
  One row per raw record that collapsed into an earlier copy of the same event (same uuid),
  with a pointer to the copy that was kept.
#}

with

copies as (

    select * from {{ ref('int_events__validated') }}
    where copy_number > 1

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

select * from final
