{#
  One row per raw Mixpanel record, parsed. Rules follow PostHog's own Mixpanel importer:
  - distinct_id: properties.distinct_id, else $user_id, else $device_id (blank counts as missing);
    anonymous when it is only a device id ($device_id, or a distinct_id starting with `$device:`)
  - time: epoch seconds, or milliseconds above 10^10; read in var('mixpanel_project_timezone')
  - uuid: UUIDv5(namespace 'posthog_mixpanel', $insert_id); without $insert_id, the same
    function over the record's content, so copies collapse and reruns agree.
#}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = [
    'event', 'properties.$insert_id', 'properties.distinct_id', 'properties.$user_id',
    'properties.$device_id', 'properties.time',
    'properties', 'properties.$distinct_id_before_identity'
] %}

with

source as (

    select * from {{ source('mixpanel', 'mixpanel_events') }}

),

extracted as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ json_values('record', fields) }} as field

    from source

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ first_of('field', [1]) }} as source_event_name,
        {{ object_or('field[7]') }} as source_properties,
        {{ first_of('field', [2]) }} as insert_id,
        {{ first_of('field', [3, 4, 5]) }} as distinct_id,
        {{ first_of('field', [3]) }} as property_distinct_id,
        {{ first_of('field', [4]) }} as user_id,
        {{ value_text('field[6]') }} as source_time,
        {{ identity_links([
            (raw_id('field[5]'), raw_id('field[4]'), 'identify'),
            (raw_id('field[8]'), 'coalesce(' ~ raw_id('field[4]') ~ ', ' ~ raw_id('field[3]') ~ ')', 'identify'),
        ]) }} as identity_links   -- $device_id with $user_id; the id before identify with the user's

    from extracted

),

final as (

    select
        'mixpanel' as source_system,
        load_id,
        line_number,
        file_path,
        insert_id as source_event_id,
        source_event_name,
        distinct_id,
        coalesce(
            user_id is null and (property_distinct_id is null or starts_with(property_distinct_id, '$device:')),
            true
        ) as distinct_id_is_anonymous,
        'distinct_id, $user_id or $device_id' as distinct_id_fields,   -- what distinct_id is read from, for the rejects' detail
        identity_links,
        source_time,
        {{ wall_time_to_utc(epoch_to_timestamp('source_time'), var('mixpanel_project_timezone')) }} as event_at,
        source_properties,
        cast(null as json) as person_properties,
        case
            when insert_id is not null then {{ uuid_v5('posthog_mixpanel', 'insert_id') }}
            else {{ uuid_v5('posthog_mixpanel', "'backfill-content:' || " ~ canonical_json('record')) }}
        end as uuid,
        cast(null as varchar) as rejection_reason,
        cast(null as varchar) as exclusion_reason,
        record as source_record

    from parsed

)

select * from final
