{#
  One row per GA4 BigQuery export row (NDJSON or Parquet), parsed:
  - event: event_name (the `event_name_mappings` seed maps page_view → $pageview)
  - distinct_id: user_id, else user_pseudo_id
  - time: event_timestamp, microseconds since the epoch, UTC
  - properties: event_params flattened, each key taking whichever typed value is set
  - person_properties: user_properties flattened the same way
  - uuid: GA4 has no event id, so it is a surrogate: UUIDv5 (namespace 'backfill_ga4_evt')
    over user_pseudo_id, user_id, event_name, event_timestamp and the params as flattened
    above (so the same row exported as NDJSON or as Parquet gets the same uuid).
    Exact duplicate rows collapse; two distinct events identical in all of these would too.
#}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = ['event_name', 'user_id', 'user_pseudo_id', 'event_timestamp', 'event_params', 'user_properties'] %}

with

source as (

    select * from {{ source('ga4', 'ga4_events') }}

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

flattened as (

    select
        *,
        {{ ga4_params_to_json('field[5]') }} as params

    from extracted

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ first_of('field', [1]) }} as source_event_name,
        {{ first_of('field', [2, 3]) }} as distinct_id,
        {{ first_of('field', [2]) }} is null as distinct_id_is_anonymous,
        {{ first_of('field', [4]) }} as source_time,
        params as source_properties,
        case when {{ text_starts_with('field[6]', "'['") }} then {{ ga4_params_to_json('field[6]') }} end as person_properties,
        {{ identity_links([(raw_id('field[3]'), raw_id('field[2]'), 'identify')]) }} as identity_links,   -- user_pseudo_id with user_id
        concat_ws('|',
            coalesce({{ value_text('field[3]') }}, ''),
            coalesce({{ value_text('field[2]') }}, ''),
            coalesce({{ value_text('field[1]') }}, ''),
            coalesce({{ value_text('field[4]') }}, ''),
            cast(params as {{ text_type() }})
        ) as surrogate_key

    from flattened

),

final as (

    select
        'ga4' as source_system,
        load_id,
        line_number,
        file_path,
        cast(null as {{ text_type() }}) as source_event_id,
        source_event_name,
        distinct_id,
        distinct_id_is_anonymous,
        'user_id or user_pseudo_id' as distinct_id_fields,   -- what distinct_id is read from, for the rejects' detail
        identity_links,
        source_time,
        {{ epoch_to_timestamp('source_time', 'us') }} as event_at,
        source_properties,
        person_properties,
        {{ as_json('null') }} as person_properties_once,
        {{ as_json('null') }} as source_context,
        cast(null as {{ text_type() }}) as country_code,
        {{ as_json('null') }} as groups,
        {{ no_group_links() }} as group_links,
        {{ uuid_v5('backfill_ga4_evt', 'surrogate_key') }} as uuid,
        cast(null as {{ text_type() }}) as rejection_reason,
        cast(null as {{ text_type() }}) as exclusion_reason,
        record as source_record

    from parsed

)

select * from final
