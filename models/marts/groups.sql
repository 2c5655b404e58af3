{#
  One row per group (group type, group key) any usable record named (events, and records
  excluded on purpose such as Segment `group` calls), with its latest known properties:
  - properties: for each key, the value from the most recent record (by event time, then
    load and line) that stated it: Amplitude `group_properties`, Segment `group` traits;
  - distinct_id: who the group was last seen with (PostHog's `$groupidentify` is sent as
    that person, as PostHog's importer sends it as the event's person);
  - uuid: UUIDv5 of the group, its properties and the newest load those values came from: a
    group is sent when first seen and again when a newer load brings property values, as
    PostHog's importer sends `$groupidentify` when a group's properties are first seen or change;
  - event_at / timestamp: when the newest property value was stated, else first seen;
  - posthog_properties: the markers PostHog's importer puts on its `$groupidentify` (macros/posthog.sql).
  At most 5 group types (PostHog's limit): the test at_most_five_group_types fails the build
  beyond that. Incremental: a build recomputes only the groups new loads name, each from all
  of its records.
#}

{#- Plain Parquet tables on Spark have no DELETE: there the model is recomputed whole and
    replaces the table (insert_overwrite without partitions), which equals delete+insert of the
    groups new loads touch, since the others' records did not change. #}
{{ config(incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'), unique_key=['group_type', 'group_key']) }}

{%- set new_loads = backfill.new_loads() %}

with

usable_records as (

    select source_system, load_id, line_number, event_at, distinct_id, distinct_id_is_anonymous, group_links
    from {{ ref('int_events__validated') }}
    where rejection_reason is null
        and distinct_id is not null
        and {{ backfill.list_length('group_links') }} > 0
        and event_at is not null
        and {{ is_plausible_event_time('event_at') }}   -- excluded records skip validation: check here

),

links as (

    select
        usable_records.source_system,
        usable_records.load_id,
        usable_records.line_number,
        usable_records.event_at,
        usable_records.distinct_id,
        usable_records.distinct_id_is_anonymous,
        link.group_type,
        link.group_key,
        link.properties

    from usable_records {{ backfill.unnest('usable_records.group_links', 'link') }}

),

records as (

    select * from links
    {% if is_incremental() and target.type != 'spark' %}
    where (group_type, group_key) in (select (group_type, group_key) from links where {{ new_loads }})
    {% endif %}

),

regrouped as (

    {{ merged_properties('records', ['group_type', 'group_key'], 'properties') }}

),

seen as (

    select
        group_type,
        group_key,
        {{ backfill.arg_max('distinct_id', ['event_at', 'load_id', 'line_number']) }} as distinct_id,
        {{ backfill.arg_max('distinct_id_is_anonymous', ['event_at', 'load_id', 'line_number']) }} as distinct_id_is_anonymous,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        count(*) as records,
        max(load_id) as load_id,
        {{ backfill.sorted_distinct_list('source_system') }} as source_systems

    from records
    group by group_type, group_key

),

final as (

    select
        {{ uuid_v5(
            'backfill_groups_',
            backfill.json_text_array(['seen.group_type', 'seen.group_key']) ~ " || '|' || coalesce(cast(regrouped.properties as " ~ backfill.text_type() ~ "), '{}')"
            ~ " || '|' || coalesce(cast(regrouped.properties_load_id as " ~ backfill.text_type() ~ "), '')"
        ) }} as uuid,
        seen.group_type,
        seen.group_key,
        cast(coalesce(regrouped.properties, '{}') as {{ backfill.json_type_name() }}) as properties,
        cast('{' || {{ posthog_markers(backfill.list_first('seen.source_systems')) }} || '}' as {{ backfill.json_type_name() }}) as posthog_properties,
        seen.distinct_id,
        seen.distinct_id_is_anonymous,
        {{ to_iso8601_utc('coalesce(regrouped.properties_at, seen.first_seen_at)') }} as timestamp,
        coalesce(regrouped.properties_at, seen.first_seen_at) as event_at,
        seen.first_seen_at,
        seen.last_seen_at,
        seen.records,
        seen.source_systems,
        seen.load_id

    from seen
    left join regrouped
        on regrouped.group_type = seen.group_type
        and regrouped.group_key = seen.group_key

)

select *, {{ backfill.build_id() }} as build_id from final
