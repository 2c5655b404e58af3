{#
  One row per raw Mixpanel user profile (the Engage API's `{"$distinct_id", "$properties"}`),
  in the columns every source's staging model has. A profile is not an event: it is excluded
  from events (`profile_record`) and feeds the persons mart with its properties.
  - distinct_id: `$distinct_id` as written (not trimmed); a blank or missing one leaves the
    record to validation, which rejects it as missing_distinct_id. Anonymous only when it starts
    with `$device:`
  - person_properties: `$properties` as it is (an object; anything else gives an empty one)
  - event_at: the first plausible of `$properties.$last_seen` and `$created` (zone-less, UTC),
    else when the record was landed: a profile always has a time, so it always reaches persons
  - uuid: UUIDv5 (namespace 'backfill_profile') of the record's content: copies share it
#}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = ['$distinct_id', '$properties', '$properties.$last_seen', '$properties.$created'] %}

with

source as (

    select * from {{ source('mixpanel', 'mixpanel_profiles') }}

),

extracted as (

    select
        load_id,
        line_number,
        file_path,
        loaded_at,
        record,
        {{ json_values('record', fields) }} as field

    from source

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        loaded_at,
        record,
        {{ raw_id('field[1]') }} as distinct_id,
        {{ object_or('field[2]') }} as person_properties,
        {{ value_text('field[3]') }} as last_seen,
        {{ value_text('field[4]') }} as created,
        {{ text_to_timestamp(value_text('field[3]')) }} as last_seen_at,
        {{ text_to_timestamp(value_text('field[4]')) }} as created_at

    from extracted

),

timed as (

    select
        *,
        case
            when {{ is_plausible_event_time('last_seen_at') }} then 'last_seen'
            when {{ is_plausible_event_time('created_at') }} then 'created'
            else 'loaded'
        end as time_from

    from parsed

),

final as (

    select
        'mixpanel-profiles' as source_system,
        load_id,
        line_number,
        file_path,
        cast(null as {{ text_type() }}) as source_event_id,
        '$profile' as source_event_name,
        distinct_id,
        coalesce({{ text_starts_with('distinct_id', "'$device:'") }}, false) as distinct_id_is_anonymous,
        '$distinct_id' as distinct_id_fields,   -- what distinct_id is read from, for the rejects' detail
        {{ no_identity_links() }} as identity_links,
        case time_from when 'last_seen' then last_seen when 'created' then created end as source_time,
        case time_from when 'last_seen' then last_seen_at when 'created' then created_at else loaded_at end as event_at,
        {{ as_json("'{}'") }} as source_properties,
        person_properties,
        {{ as_json('null') }} as person_properties_once,
        {{ as_json('null') }} as source_context,
        cast(null as {{ text_type() }}) as country_code,
        {{ as_json('null') }} as groups,
        {{ no_group_links() }} as group_links,
        {{ uuid_v5('backfill_profile', canonical_json('record')) }} as uuid,
        cast(null as {{ text_type() }}) as rejection_reason,
        case when distinct_id is not null then 'profile_record' end as exclusion_reason,   -- without an id: rejected
        record as source_record

    from timed

)

select * from final
