{#
  One row per raw Amplitude export record, parsed. Rules follow PostHog's own Amplitude
  importer (shared/REFERENCE.md):
  - distinct_id: user_id, else device_id (blank counts as missing)
  - time: the first parsable of event_time, client_event_time, server_received_time; they
    carry no zone marker and are UTC; sub-second precision is kept
  - uuid: Amplitude's own `uuid`, so the same event in two export files collapses; a record
    without a valid one gets a uuid derived from its content
  - properties: event_properties plus what PostHog's importer adds: $amplitude_user_id,
    $amplitude_device_id, $device_id, $amplitude_event_id, $amplitude_session_id (non-zero),
    $ip (ip_address), $browser (os_name), $browser_version (os_version), $os (os_name, as
    shared/REFERENCE.md documents it; the importer's code at the time read device_type),
    $device_type (Windows/Linux → Desktop, iOS/Android → Mobile), geo ($geoip_country_name,
    $geoip_city_name, $geoip_subdivision_1_name from country, city, region) and page details
    ($current_url, $host, $pathname, $viewport_width/height from the `[Amplitude] Page ...`
    and `Viewport ...` properties, $referrer, $referring_domain)
  - person_properties ($set): user_properties but the `initial_*` keys; person_properties_once
    ($set_once): the `initial_*` keys as `$initial_*`. A value that is Amplitude's placeholder
    "EMPTY" (it means "no value", as PostHog's importer reads it) is left out of both
  - groups: `groups` ({"company": ["acme"]}; the first key of each type is the event's),
    group properties from `group_properties` ({"company": {"acme": {...}}})
  - session_start / session_end are excluded by the `event_exclusions` seed
#}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = [
    'event_type', 'uuid', 'device_id', 'ip_address', 'user_id',
    'event_time', 'client_event_time', 'server_received_time',
    'event_properties', 'user_properties', 'groups', 'group_properties',
    'event_id', 'session_id', 'os_name', 'os_version', 'device_type', 'country', 'city', 'region',
    'event_properties.[Amplitude] Page URL', 'event_properties.[Amplitude] Page Domain',
    'event_properties.[Amplitude] Page Path', 'event_properties.[Amplitude] Viewport Width',
    'event_properties.[Amplitude] Viewport Height', 'event_properties.referrer',
    'event_properties.referring_domain'
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

texted as (

    select
        *,
        {{ value_texts('field') }} as texts   -- each field's text, read once

    from extracted

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ first_text_at('texts', [1]) }} as source_event_name,
        {{ as_uuid('texts[2]') }} as amplitude_uuid,
        {{ first_text_at('texts', [2]) }} as source_event_id,
        {{ first_text_at('texts', [3]) }} as device_id,
        {{ first_text_at('texts', [4]) }} as ip_address,
        {{ first_text_at('texts', [5, 3]) }} as distinct_id,
        {{ first_text_at('texts', [5]) }} is null as distinct_id_is_anonymous,
        {{ first_text_at('texts', [6, 7, 8]) }} as source_time,
        coalesce({% for i in [6, 7, 8] %}{{ text_to_timestamp('texts[' ~ i ~ ']') }}{% if not loop.last %}, {% endif %}{% endfor %}) as event_at,
        {{ object_or('field[9]') }} as event_properties,
        {{ object_or('field[10]', otherwise='null') }} as person_properties,
        {{ identity_links([(raw_id_at('texts', 3), raw_id_at('texts', 5), 'identify')]) }} as identity_links,   -- device_id with user_id
        {{ group_links_by_type('field[11]', 'field[12]') }} as group_links,
        {#- what PostHog's importer adds to properties (names as it writes them) #}
        {{ raw_id_at('texts', 5) }} as user_id,
        {{ raw_id_at('texts', 3) }} as raw_device_id,
        case when {{ text_to_bigint('texts[13]') }} <> 0 then field[13] end as event_id,
        case when {{ text_to_bigint('texts[14]') }} <> 0 then field[14] end as session_id,
        {{ first_text_at('texts', [15]) }} as os_name,
        {{ first_text_at('texts', [16]) }} as os_version,
        {{ first_text_at('texts', [17]) }} as device_type,
        {{ first_text_at('texts', [18]) }} as country,
        {{ first_text_at('texts', [19]) }} as city,
        {{ first_text_at('texts', [20]) }} as region,
        {% for i in range(21, 28) %}case when {{ json_is_value('field[' ~ i ~ ']') }} then field[{{ i }}] end as page_{{ i }}{% if not loop.last %},
        {% endif %}{% endfor %}

    from texted

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
        {#- text values go through add_key_text; every value is then JSON (all keys in json_keys) #}
        {%- set added = {
            '$amplitude_user_id': add_key_text('user_id'),
            '$amplitude_device_id': add_key_text('raw_device_id'),
            '$device_id': add_key_text('device_id'),
            '$amplitude_event_id': 'event_id',
            '$amplitude_session_id': 'session_id',
            '$geoip_country_name': add_key_text('country'),
            '$geoip_city_name': add_key_text('city'),
            '$geoip_subdivision_1_name': add_key_text('region'),
            '$browser': add_key_text('os_name'),
            '$os': add_key_text('os_name'),
            '$browser_version': "case when " ~ regex_full_match('os_version', '-?[0-9]{1,18}') ~ " then " ~ json_integer('cast(os_version as bigint)') ~ " else " ~ json_string('os_version') ~ " end",
            '$device_type': add_key_text("case when device_type in ('Windows', 'Linux') then 'Desktop' when device_type in ('iOS', 'Android') then 'Mobile' end"),
            '$ip': add_key_text('ip_address'),
            '$current_url': 'page_21',
            '$host': 'page_22',
            '$pathname': 'page_23',
            '$viewport_width': 'page_24',
            '$viewport_height': 'page_25',
            '$referrer': 'page_26',
            '$referring_domain': 'page_27',
        } %}
        {{ json_add_keys('event_properties', added, json_keys=added.keys() | list) }} as source_properties,
        case
            when contains(cast(person_properties as {{ text_type() }}), '"EMPTY"') or contains(cast(person_properties as {{ text_type() }}), '"initial_') then coalesce(
                {{ object_where('person_properties', "cast(p.value as " ~ text_type() ~ ") <> '\"EMPTY\"' and not " ~ text_starts_with('p.key', "'initial_'")) }},
                {{ as_json("'{}'") }}
            )
            else person_properties
        end as person_properties,
        case
            when contains(cast(person_properties as {{ text_type() }}), '"initial_') then
                {{ object_where('person_properties', "cast(p.value as " ~ text_type() ~ ") <> '\"EMPTY\"' and " ~ text_starts_with('p.key', "'initial_'"), key="'$' || p.key") }}
        end as person_properties_once,
        {{ groups_object('group_links') }} as groups,
        {{ as_json('null') }} as source_context,
        cast(null as {{ text_type() }}) as country_code,
        group_links,
        coalesce(
            amplitude_uuid,
            {{ uuid_v5('backfill_content', "'amplitude:' || " ~ canonical_json('record')) }}
        ) as uuid,
        cast(null as {{ text_type() }}) as rejection_reason,
        cast(null as {{ text_type() }}) as exclusion_reason,
        record as source_record

    from parsed

)

select * from final
