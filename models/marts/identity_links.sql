{#
  One row per (anonymous id, known id) pair any usable record showed together: Mixpanel
  $device_id with $user_id (and $distinct_id_before_identity with the user's id), Amplitude
  device_id with user_id, Segment anonymousId with userId (and alias: previousId becomes
  userId), GA4 user_pseudo_id with user_id; ids exactly as the source wrote them. The row is
  the pair as first seen (by event time, then load and line): its time, source, record and
  kind. PostHog receives one `$identify` per pair at that time (as its own importer sends one
  the first time it sees a user and device id together); Segment an identify with both ids,
  or an alias.
  uuid: UUIDv5 of the pair, so a pair is sent once whatever is rebuilt.
  properties: the `$identify` event's properties as PostHog's importer writes them:
  $anon_distinct_id, for Mixpanel and Amplitude `$<source>_user_id` and `$<source>_device_id`,
  its markers (historical_migration, analytics_source = the source of the first record,
  $geoip_disable; macros/posthog.sql), source_system.
  Incremental: a build recomputes only the pairs that new loads show, each from all of its records.
#}

{#- Plain Parquet tables on Spark have no DELETE: there the model is recomputed whole and
    replaces the table (insert_overwrite without partitions), which equals delete+insert of the
    pairs new loads touch, since the others' records did not change. #}
{{ config(incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'), unique_key='uuid') }}

{%- set new_loads = backfill.new_loads() %}

with

usable_records as (

    select source_system, load_id, line_number, event_at, identity_links
    from {{ ref('int_events__validated') }}
    where rejection_reason is null
        and {{ backfill.list_length('identity_links') }} > 0
        and event_at is not null
        and {{ is_plausible_event_time('event_at') }}   -- excluded records skip validation: check here

),

pairs as (

    select
        usable_records.source_system,
        usable_records.load_id,
        usable_records.line_number,
        usable_records.event_at,
        link.anonymous_id,
        link.known_id,
        link.link_type

    from usable_records {{ backfill.unnest('usable_records.identity_links', 'link') }}

),

records as (

    select * from pairs
    {% if is_incremental() and target.type != 'spark' %}
    where (anonymous_id, known_id) in (select (anonymous_id, known_id) from pairs where {{ new_loads }})
    {% endif %}

),

first_seen as (

    select
        *,
        count(*) over (partition by anonymous_id, known_id) as records,
        max(load_id) over (partition by anonymous_id, known_id) as newest_load_id

    from records
    qualify row_number() over (
        partition by anonymous_id, known_id order by event_at, load_id, line_number
    ) = 1

),

final as (

    select
        {{ uuid_v5('backfill_idlinks', backfill.json_text_array(['anonymous_id', 'known_id'])) }} as uuid,
        anonymous_id,
        known_id,
        link_type,
        cast('{"$anon_distinct_id":' || {{ backfill.json_scalar('anonymous_id') }}
            || case when source_system in ('mixpanel', 'amplitude')
                then ',"$' || source_system || '_user_id":' || {{ backfill.json_scalar('known_id') }}
                    || ',"$' || source_system || '_device_id":' || {{ backfill.json_scalar('anonymous_id') }}
                else '' end
            || ',' || {{ posthog_markers('source_system') }}
            || ',"source_system":' || {{ backfill.json_scalar('source_system') }} || '}' as {{ backfill.json_type_name() }}) as properties,
        known_id as distinct_id,   -- who the link is sent as: the known id takes the anonymous one
        false as distinct_id_is_anonymous,
        {{ to_iso8601_utc('event_at') }} as timestamp,
        event_at,
        source_system,
        load_id as first_seen_load_id,
        line_number as first_seen_line_number,
        records,
        newest_load_id as load_id

    from first_seen

)

select *, {{ backfill.build_id() }} as build_id from final
