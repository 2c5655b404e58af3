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

valid_copies as (

    {#- valid records numbered among the copies of their uuid in these loads (only the keys go
        through the sort: the properties do not) #}
    select
        load_id,
        line_number,
        uuid,
        row_number() over copies as copy_in_new_loads,
        first_value(load_id) over copies as first_load_id,
        first_value(line_number) over copies as first_line_number

    from judged
    where rejection_reason is null and exclusion_reason is null
    window copies as (partition by uuid order by load_id, line_number)

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
        and uuid in (select uuid from valid_copies)
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
        judged.source_system,
        judged.load_id,
        judged.line_number,
        judged.file_path,
        judged.uuid,
        judged.source_event_id,
        judged.source_event_name,
        judged.distinct_id,
        judged.distinct_id_is_anonymous,
        judged.source_time,
        judged.event_at,
        case when valid_copies.uuid is not null then judged.source_properties end as source_properties,
        judged.person_properties,
        case when judged.rejection_reason is not null then judged.source_record end as source_record,
        judged.exclusion_reason,
        judged.rejection_reason,
        coalesce(earlier_copies.copies, 0) + valid_copies.copy_in_new_loads as copy_number,
        coalesce(earlier_copies.kept_load_id, valid_copies.first_load_id) as kept_load_id,
        coalesce(earlier_copies.kept_line_number, valid_copies.first_line_number) as kept_line_number

    from judged
    left join valid_copies
        on valid_copies.load_id = judged.load_id
        and valid_copies.line_number = judged.line_number
    left join earlier_copies
        on earlier_copies.uuid = valid_copies.uuid

)

select *, {{ backfill.build_id() }} as build_id from final
