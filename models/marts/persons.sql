{#
  One row per distinct_id seen in any usable record (events, and records excluded on purpose
  such as Segment identify and Mixpanel profiles), with its latest known person properties:
  - properties: every key from Amplitude user_properties, Segment identify traits (or a
    message's context.traits), GA4 user_properties, Mixpanel profiles' $properties; for each
    key the value from the most recent record (by event time, then load and line) wins;
  - properties_once: the person's set-once properties (Amplitude `initial_*` as `$initial_*`):
    for each key the value from the earliest record wins, as PostHog's `$set_once` keeps the
    first value it is given;
  - posthog_properties: the markers PostHog's importer puts on what it sends (macros/posthog.sql;
    analytics_source = the first of the person's sources), sent with the `$identify`;
  - first_seen_at / last_seen_at over all of the person's records;
  - uuid: UUIDv5 of distinct_id, properties and the newest load those values came from, so a
    person is sent again when a newer load brings property values (even ones equal to what was
    sent: a change A → B → A is sent three times, never skipped); load_id: the newest load that
    contributed to the person at all (the push watermark moves by it).
  Extend it in SQL: add keys in `person_properties` below, or filter persons out.
  Incremental: a build recomputes only the persons that loads newer than the newest one here
  bring records for, each from all of its records.
#}

{#- Plain Parquet tables on Spark have no DELETE: there the model is recomputed whole and
    replaces the table (insert_overwrite without partitions), which equals delete+insert of the
    persons new loads touch, since the others' records did not change. #}
{{ config(incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'), unique_key='distinct_id') }}

{%- set new_loads = backfill.new_loads() %}

with

usable_records as (

    select * from {{ ref('int_events__validated') }}
    where rejection_reason is null
        and distinct_id is not null
        and event_at is not null
        and {{ is_plausible_event_time('event_at') }}   -- excluded records skip validation: check here

),

records as (

    select * from usable_records
    {% if is_incremental() and target.type != 'spark' %}
    where distinct_id in (select distinct_id from usable_records where {{ new_loads }})
    {% endif %}

),

regrouped as (

    {{ merged_properties('records', ['distinct_id'], 'person_properties') }}

),

regrouped_once as (

    {{ merged_properties('records', ['distinct_id'], 'person_properties_once', first=true) }}

),

seen as (

    select
        distinct_id,
        bool_and(distinct_id_is_anonymous) as distinct_id_is_anonymous,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        max(load_id) as load_id,
        {{ backfill.sorted_distinct_list('source_system') }} as source_systems

    from records
    group by distinct_id

),

final as (

    select
        {{ uuid_v5(
            'backfill_persons',
            "seen.distinct_id || '|' || coalesce(cast(regrouped.properties as " ~ backfill.text_type() ~ "), '{}')"
            ~ " || '|' || coalesce(cast(regrouped.properties_load_id as " ~ backfill.text_type() ~ "), '')"
            ~ " || coalesce('|' || cast(regrouped_once.properties as " ~ backfill.text_type() ~ ") || '|' || regrouped_once.properties_load_id, '')"
        ) }} as uuid,
        seen.distinct_id,
        seen.distinct_id_is_anonymous,
        cast(coalesce(regrouped.properties, '{}') as {{ backfill.json_type_name() }}) as properties,
        cast(coalesce(regrouped_once.properties, '{}') as {{ backfill.json_type_name() }}) as properties_once,
        regrouped.properties is not null or regrouped_once.properties is not null as has_properties,
        cast('{' || {{ posthog_markers(backfill.list_first('seen.source_systems')) }} || '}' as {{ backfill.json_type_name() }}) as posthog_properties,
        {{ to_iso8601_utc('seen.last_seen_at') }} as timestamp,
        seen.last_seen_at as event_at,
        seen.first_seen_at,
        seen.last_seen_at,
        seen.source_systems,
        seen.load_id

    from seen
    left join regrouped
        on regrouped.distinct_id = seen.distinct_id
    left join regrouped_once
        on regrouped_once.distinct_id = seen.distinct_id

)

select *, {{ backfill.build_id() }} as build_id from final
