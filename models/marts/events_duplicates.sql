{#
  One row per raw record that collapsed into an earlier copy of the same event (same uuid):
  its copy number among the valid records with that uuid (2, 3, ... by load, then line) and a
  pointer to the copy that was kept (the first).
  Incremental by load: for the valid records of new loads, the uuids with another copy (in an
  earlier load, found through int_events__validated's uuids, or in these loads) are numbered
  over all their copies; only those uuids are sorted.
#}

{%- set new_loads = backfill.new_loads() %}

with

valid as (

    select source_system, load_id, line_number, file_path, uuid, event_at
    from {{ ref('int_events__validated') }}
    where rejection_reason is null and exclusion_reason is null

),

new_valid as (

    select * from valid
    where {{ new_loads }}

),

copied as (

    {#- the uuids of new records that have another copy #}
    select uuid from new_valid
    group by uuid
    having count(*) > 1
    {% if is_incremental() %}
    union
    select uuid from valid
    where not ({{ new_loads }})
        and uuid in (select uuid from new_valid)
    {% endif %}

),

copies as (

    select
        valid.*,
        row_number() over copies_of_an_event as copy_number,
        first_value(load_id) over copies_of_an_event as kept_load_id,
        first_value(line_number) over copies_of_an_event as kept_line_number

    from valid
    where uuid in (select uuid from copied)
    window copies_of_an_event as (partition by uuid order by load_id, line_number)

),

final as (

    select
        source_system,
        load_id,
        line_number,
        file_path,
        uuid,
        event_at,
        copy_number,
        kept_load_id,
        kept_line_number

    from copies
    where copy_number > 1 and {{ new_loads }}

)

select *, {{ backfill.build_id() }} as build_id from final
