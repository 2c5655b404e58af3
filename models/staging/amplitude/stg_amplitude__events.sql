{#
  One row per raw Amplitude export record, parsed. Rules follow PostHog's own Amplitude
  importer (shared/REFERENCE.md):
  - distinct_id: user_id, else device_id (blank counts as missing)
  - time: the first parsable of event_time, client_event_time, server_received_time; they
    carry no zone marker and are UTC; sub-second precision is kept
  - uuid: Amplitude's own `uuid`, so the same event in two export files collapses; a record
    without a valid one gets a uuid derived from its content
  - properties: event_properties plus $device_id and $ip (from ip_address)
  - person_properties: user_properties
  - session_start / session_end are excluded by the `event_exclusions` seed
#}

{%- set times = ['event_time', 'client_event_time', 'server_received_time'] %}

with

source as (

    select * from {{ source('amplitude', 'amplitude_events') }}

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ first_text('record', ['event_type']) }} as source_event_name,
        {{ as_uuid("record->>'$.uuid'") }} as amplitude_uuid,
        {{ first_text('record', ['uuid']) }} as source_event_id,
        {{ first_text('record', ['device_id']) }} as device_id,
        {{ first_text('record', ['ip_address']) }} as ip_address,
        {{ first_text('record', ['user_id', 'device_id']) }} as distinct_id,
        {{ first_text('record', ['user_id']) }} is null as distinct_id_is_anonymous,
        {{ first_text('record', times) }} as source_time,
        {{ first_timestamp('record', times) }} as event_at,
        {{ json_object_at('record', 'event_properties') }} as event_properties,
        {{ json_object_at('record', 'user_properties', otherwise='null') }} as person_properties

    from source

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
        source_time,
        event_at,
        {{ json_add_keys('event_properties', {'$device_id': 'device_id', '$ip': 'ip_address'}) }} as source_properties,
        person_properties,
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
