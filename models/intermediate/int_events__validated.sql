{#
  Every parsed record of every source, with the verdict on it:
  - exclusion_reason: not an event by design (a staging rule, or the `event_exclusions`
    seed); excluded records are neither sent nor rejected;
  - rejection_reason: why it cannot be sent (a staging rule, or a missing name, id or
    plausible time); null when it can. rejection_detail says it for this record, in the
    source's own terms (its staging model names where distinct_id is read from).
  A valid record is an event unless an earlier copy of it (same uuid) exists: events_duplicates
  finds those, with this table's uuids as the index.

  Incremental by load: a build parses only the records of loads that are new since the last
  build (the staging models are views; the load filter reaches the raw tables), one record at a
  time: nothing here depends on other records. The records' properties are kept for the events
  mart (valid records only), the raw record for the rejects mart (rejected ones only).
  A new source: add its staging model (same columns as these) to the list below.
#}

{%- set staging_models = [
    'stg_mixpanel__events', 'stg_amplitude__events', 'stg_segment__events', 'stg_ga4__events',
    'stg_shop__events', 'stg_mixpanel__profiles',
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
        distinct_id_fields,
        identity_links,
        source_time,
        event_at,
        source_properties,
        person_properties,
        person_properties_once,
        source_context,
        country_code,
        groups,
        group_links,
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
        {{ star_except('unioned', ['staging_rejection_reason', 'staging_exclusion_reason']) }},
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

final as (

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
        case when rejection_reason is null and exclusion_reason is null then source_properties end as source_properties,
        case when rejection_reason is null and exclusion_reason is null then source_context end as source_context,
        case when rejection_reason is null and exclusion_reason is null then country_code end as country_code,
        person_properties,
        person_properties_once,
        case when rejection_reason is null and exclusion_reason is null then groups end as groups,
        group_links,
        identity_links,
        case when rejection_reason is not null then source_record end as source_record,
        exclusion_reason,
        rejection_reason,
        case rejection_reason
            when 'invalid_timestamp' then 'time: ' || coalesce(source_time, 'missing')
            when 'missing_distinct_id' then 'no ' || coalesce(distinct_id_fields, 'distinct_id')
            when 'missing_event_name' then 'no event name'
            when 'unsupported_message_type' then 'message type: ' || coalesce(source_event_name, 'missing')
        end as rejection_detail

    from judged

)

select *, {{ backfill.build_id() }} as build_id from final
