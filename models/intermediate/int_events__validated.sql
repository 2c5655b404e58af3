{#
  Every parsed record of every source, with the verdict on it:
  - exclusion_reason: not an event by design (a staging rule, or the `event_exclusions`
    seed); excluded records are neither sent nor rejected;
  - rejection_reason: why it cannot be sent (a staging rule, or a missing name, id or
    plausible time); null when it can;
  - copy_number: among valid records with the same uuid, 1 for the first landed
    (lowest load_id, then line), 2+ for copies that collapse into it; kept_load_id and
    kept_line_number point at that first copy.

  Incremental by load: a build parses only the records of loads that are new since the last
  build (the staging models are views; the load filter reaches the raw tables). A copy of an
  event built earlier is found through the copies already here (uuid is the index), so
  building load by load gives the same verdicts as one build of everything. The records'
  properties are kept for the events mart (valid records only), the raw record for the
  rejects mart (rejected ones only).
  A new source: add its staging model (same columns as these) to the list below.
#}

{%- set staging_models = [
    'stg_mixpanel__events', 'stg_amplitude__events', 'stg_segment__events', 'stg_ga4__events',
    'stg_shop__events',
] %}
{%- set new_loads = backfill.new_loads() %}

with

unioned as (

    {% for model in staging_models %}
    select
        source_system,
        load_id,
        line_number,
        file_path,
        uuid,
        source_event_id,
        source_event_name,
        distinct_id,
        distinct_id_is_anonymous,
        source_time,
        event_at,
        source_properties,
        person_properties,
        rejection_reason as staging_rejection_reason,
        exclusion_reason as staging_exclusion_reason,
        source_record
    from {{ ref(model) }}
    where {{ new_loads }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

event_exclusions as (

    select * from {{ ref('event_exclusions') }}

),

judged as (

    select
        unioned.* exclude (staging_rejection_reason, staging_exclusion_reason),
        coalesce(
            unioned.staging_exclusion_reason,
            case when event_exclusions.source_event is not null then 'excluded_event_name' end
        ) as exclusion_reason,
        case
            when coalesce(unioned.staging_exclusion_reason, event_exclusions.source_event) is not null then null
            when unioned.staging_rejection_reason is not null then unioned.staging_rejection_reason
            when unioned.source_event_name is null then 'missing_event_name'
            when unioned.distinct_id is null then 'missing_distinct_id'
            when unioned.event_at is null or not {{ is_plausible_event_time('unioned.event_at') }} then 'invalid_timestamp'
        end as rejection_reason

    from unioned
    left join event_exclusions
        on event_exclusions.source_system = unioned.source_system
        and event_exclusions.source_event = unioned.source_event_name

),

numbered as (

    select
        *,
        rejection_reason is null and exclusion_reason is null as is_valid,
        row_number() over copies as copy_in_new_loads,
        first_value(load_id) over copies as first_load_id,
        first_value(line_number) over copies as first_line_number

    from judged
    window copies as (
        partition by uuid, rejection_reason is null and exclusion_reason is null
        order by load_id, line_number
    )

),

earlier_copies as (

    {% if is_incremental() %}
    {#- the copies built before of the uuids these loads bring; their first is the kept one #}
    select
        uuid,
        count(*) as copies,
        min(kept_load_id) as kept_load_id,
        min(kept_line_number) as kept_line_number

    from {{ this }}
    where copy_number is not null
        and uuid in (select uuid from numbered where is_valid)
    group by uuid
    {% else %}
    select
        cast(null as varchar) as uuid,
        cast(null as bigint) as copies,
        cast(null as bigint) as kept_load_id,
        cast(null as bigint) as kept_line_number
    where false
    {% endif %}

),

final as (

    select
        numbered.source_system,
        numbered.load_id,
        numbered.line_number,
        numbered.file_path,
        numbered.uuid,
        numbered.source_event_id,
        numbered.source_event_name,
        numbered.distinct_id,
        numbered.distinct_id_is_anonymous,
        numbered.source_time,
        numbered.event_at,
        case when numbered.is_valid then numbered.source_properties end as source_properties,
        numbered.person_properties,
        case when numbered.rejection_reason is not null then numbered.source_record end as source_record,
        numbered.exclusion_reason,
        numbered.rejection_reason,
        case when numbered.is_valid then coalesce(earlier_copies.copies, 0) + numbered.copy_in_new_loads end as copy_number,
        case when numbered.is_valid then coalesce(earlier_copies.kept_load_id, numbered.first_load_id) end as kept_load_id,
        case when numbered.is_valid then coalesce(earlier_copies.kept_line_number, numbered.first_line_number) end as kept_line_number

    from numbered
    left join earlier_copies
        on numbered.is_valid
        and earlier_copies.uuid = numbered.uuid

)

select *, {{ backfill.build_id() }} as build_id from final
