{#
  One row per raw Mixpanel record, parsed. Rules follow PostHog's own Mixpanel importer:
  - distinct_id: properties.distinct_id, except that $distinct_id_before_identity (a string)
    takes its place when distinct_id is missing, starts with `$device:` or looks generated
    (only A-Z, 0-9 and dashes, with at least one letter), as PostHog's importer does; else $user_id, else $device_id.
    Ids are kept as written (not trimmed); a blank one counts as missing. Anonymous when it is
    only a device id ($device_id, the id before identify, or a distinct_id starting with `$device:`)
  - identity_links: $device_id with $user_id, and $distinct_id_before_identity with the user's id
  - time: epoch seconds, or milliseconds above 10^10; read in var('mixpanel_project_timezone')
  - uuid: UUIDv5(namespace 'posthog_mixpanel', $insert_id); without $insert_id, the same
    function over the record's content, so copies collapse and reruns agree.
  - groups: the properties the `group_type_mappings` seed declares for mixpanel (a key, or a
    list of keys), each under its group type
  - country_code: mp_country_code (upper case) when the record has no $geoip_country_name of
    its own; the events mart adds the name PostHog's importer gives it (`country_names` seed)
#}
-- depends_on: {{ ref('group_type_mappings') }}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = [
    'event', 'properties.$insert_id', 'properties.distinct_id', 'properties.$user_id',
    'properties.$device_id', 'properties.time',
    'properties', 'properties.$distinct_id_before_identity', 'properties.mp_country_code',
    'properties.$geoip_country_name'
] %}
{%- set group_types = backfill.seeded_group_types('mixpanel') %}
{%- for property, group_type in group_types %}{% do fields.append('properties.' ~ property) %}{% endfor %}

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
        {{ raw_id('field[3]') }} as given_id,
        {{ raw_id('field[4]') }} as user_id,
        {{ raw_id('field[5]') }} as device_id,
        case when {{ json_type('field[8]') }} = 'VARCHAR' then {{ raw_id('field[8]') }} end as before_identity,
        {{ value_text('field[6]') }} as source_time,
        {{ group_links([no_group_links()] + group_types_links(group_types, 11)) }} as group_links,
        case when field[10] is null then nullif(upper(trim({{ value_text('field[9]') }})), '') end as country_code

    from extracted

),

identified as (

    select
        *,
        -- a distinct_id that is only a device id: `$device:...`, or generated (A-Z, 0-9 and
        -- dashes with at least one letter, so a numeric user id is not taken for a device)
        given_id is null or {{ text_starts_with('given_id', "'$device:'") }} or {{ regex_full_match('given_id', '[A-Z0-9-]*[A-Z][A-Z0-9-]*') }} as given_is_device,
        before_identity is not null
            and (given_id is null or {{ text_starts_with('given_id', "'$device:'") }} or {{ regex_full_match('given_id', '[A-Z0-9-]*[A-Z][A-Z0-9-]*') }})
            as takes_before_identity

    from parsed

),

final as (

    select
        'mixpanel' as source_system,
        load_id,
        line_number,
        file_path,
        insert_id as source_event_id,
        source_event_name,
        coalesce(case when takes_before_identity then before_identity else given_id end, user_id, device_id) as distinct_id,
        case
            when takes_before_identity then true
            else coalesce(user_id is null and (given_id is null or {{ text_starts_with('given_id', "'$device:'") }}), true)
        end as distinct_id_is_anonymous,
        'distinct_id, $user_id or $device_id' as distinct_id_fields,   -- what distinct_id is read from, for the rejects' detail
        {{ identity_links([
            ('device_id', 'user_id', 'identify'),
            ('before_identity', "coalesce(user_id, case when not given_is_device then given_id end)", 'identify'),
        ]) }} as identity_links,   -- $device_id with $user_id; the id before identify with the user's
        source_time,
        {{ wall_time_to_utc(epoch_to_timestamp('source_time'), var('mixpanel_project_timezone')) }} as event_at,
        source_properties,
        country_code,
        {{ as_json('null') }} as person_properties,
        {{ as_json('null') }} as person_properties_once,
        {{ as_json('null') }} as source_context,
        {{ groups_object('group_links') }} as groups,
        group_links,
        case
            when insert_id is not null then {{ uuid_v5('posthog_mixpanel', 'insert_id') }}
            else {{ uuid_v5('posthog_mixpanel', "'backfill-content:' || " ~ canonical_json('record')) }}
        end as uuid,
        cast(null as {{ text_type() }}) as rejection_reason,
        cast(null as {{ text_type() }}) as exclusion_reason,
        record as source_record

    from identified

)

select * from final
