{#
  One row per raw Amplitude export record, parsed. Rules follow PostHog's own Amplitude
  importer (shared/REFERENCE.md):
  - distinct_id: user_id, else device_id (blank counts as missing)
  - time: the first parsable of event_time, client_event_time, server_received_time; they
    carry no zone marker and are UTC; sub-second precision is kept
  - uuid: Amplitude's own `uuid`, so the same event in two export files collapses; a record
    without a valid one gets a uuid derived from its content
  - properties: event_properties plus $device_id and $ip (from ip_address)
  - person_properties: user_properties, without the keys whose value is Amplitude's placeholder
    "EMPTY" (it means "no value", as PostHog's importer reads it)
  - session_start / session_end are excluded by the `event_exclusions` seed
#}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = [
    'event_type', 'uuid', 'device_id', 'ip_address', 'user_id',
    'event_time', 'client_event_time', 'server_received_time',
    'event_properties', 'user_properties'
] %}

with

source as (

    select * from {{ source('amplitude', 'amplitude_events') }}

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
        {{ as_uuid(value_text('field[2]')) }} as amplitude_uuid,
        {{ first_of('field', [2]) }} as source_event_id,
        {{ first_of('field', [3]) }} as device_id,
        {{ first_of('field', [4]) }} as ip_address,
        {{ first_of('field', [5, 3]) }} as distinct_id,
        {{ first_of('field', [5]) }} is null as distinct_id_is_anonymous,
        {{ first_of('field', [6, 7, 8]) }} as source_time,
        {{ first_timestamp_of('field', [6, 7, 8]) }} as event_at,
        {{ object_or('field[9]') }} as event_properties,
        {{ object_or('field[10]', otherwise='null') }} as person_properties,
        {{ identity_links([(raw_id('field[3]'), raw_id('field[5]'), 'identify')]) }} as identity_links   -- device_id with user_id

    from extracted

),
final as (

    select
        'amplitude' as source_system,
        load_id,
        line_number,
        file_path,
        source_event_id,
        source_event_name,
        distinct_id,
        distinct_id_is_anonymous,
        'user_id or device_id' as distinct_id_fields,   -- what distinct_id is read from, for the rejects' detail
        identity_links,
        source_time,
        event_at,
        {{ json_add_keys('event_properties', {'$device_id': 'device_id', '$ip': 'ip_address'}) }} as source_properties,
        case
            when contains(cast(person_properties as varchar), '"EMPTY"') then coalesce((
                select to_json(map_from_entries(list({'k': p.key, 'v': p.value} order by p.id)))
                from json_each(person_properties) as p
                where cast(p.value as varchar) <> '"EMPTY"'
            ), cast('{}' as json))
            else person_properties
        end as person_properties,
        coalesce(
            amplitude_uuid,
            {{ uuid_v5('backfill_content', "'amplitude:' || " ~ canonical_json('record')) }}
        ) as uuid,
        cast(null as varchar) as rejection_reason,
        cast(null as varchar) as exclusion_reason,
        record as source_record

    from parsed

)

select * from final
