{#
  What `sync push` sends: one row per event (the first copy of each valid record, see
  events_duplicates), keyed by
  uuid, with the analysts' mappings applied:
  - event name: `event_name_mappings` seed, else the source's name;
  - properties: `property_mappings` seed renames or (empty target) drops keys; a renamed
    key wins over an existing key of the same name; nested values, nulls and Unicode are
    copied as they are;
  - provenance: `source_system` and `source_event_id` are added to properties;
  - `$geoip_country_name`: the name the `country_names` seed gives the record's country code
    (Mixpanel's mp_country_code), as PostHog's importer adds it;
  - groups: {group type: key} (see macros/groups.sql) when the record names groups;
  - source_context: the source's own Segment `context` (archived Segment messages), which the
    segment_events view sends back to Segment as it was;
  - posthog_properties: what PostHog receives in properties besides `properties`, as PostHog's
    own importer adds it: its markers (historical_migration, analytics_source, $import_job_id
    = the landed file's id in stg_landing__loads, $geoip_disable unless the var
    posthog_geoip_disable is false; macros/posthog.sql), `$groups`, and the person properties
    on the event: `$set` holds the properties the `event_person_properties` seed lists for the
    source with operation `set` (browser, OS, device, geo, current page), `$set_once` those
    with `set_once` plus the record's own set-once person properties (Amplitude's `initial_*`
    as `$initial_*`). `dbt build --vars '{person_properties_on_events: false}'` leaves `$set`
    and `$set_once` out. A column of its own, so Segment does not receive PostHog's keys.
  Incremental by load: a build maps only the events of loads newer than the newest one here.
  After changing a mapping, run `dbt build --full-refresh`; events already delivered are not
  sent again (the push ledger remembers them by uuid).
#}

{%- set new_loads = backfill.new_loads() %}
-- depends_on: {{ ref('event_person_properties') }}
{%- set person_keys = seed_rows('event_person_properties', 'source_system, operation, property', "operation in ('set', 'set_once')") %}
{%- set on_events = var('person_properties_on_events', true) %}

with

valid_records as (

    select * from {{ ref('int_events__validated') }}
    where rejection_reason is null and exclusion_reason is null and {{ new_loads }}

),

later_copies as (

    select load_id, line_number from {{ ref('events_duplicates') }}
    where {{ new_loads }}

),

valid_events as (

    {#- the first copy of each event: valid records that are not a later copy #}
    select valid_records.*
    from valid_records
    left join later_copies
        on later_copies.load_id = valid_records.load_id
        and later_copies.line_number = valid_records.line_number
    where later_copies.load_id is null

),

event_name_mappings as (

    select * from {{ ref('event_name_mappings') }}

),

property_mappings as (

    select * from {{ ref('property_mappings') }}

),

property_rules as (

    {#- one row per source system: its renames, and a JSON patch that removes the keys it drops,
        the keys it renames and source_system (added again at the end) #}
    select
        source_system,
        {{- backfill.property_rules_columns() }}

    from property_mappings
    group by source_system

),

with_rules as (

    select
        valid_events.*,
        {{- backfill.rule_columns('valid_events', 'property_rules') }}

    from valid_events
    left join property_rules
        on property_rules.source_system = valid_events.source_system

),

renamed as (

    {#- the renamed keys the record has: position in the record, new name, value (JSON) #}
    select
        *,
        {{- backfill.renamed_found() }}

    from with_rules

),

moved as (

    select
        *,
        {{- backfill.moved_columns() }}

    from renamed

),

mapped as (

    select
        *,
        {{- backfill.kept_column() }}

    from moved

),

mapped_final as (

    select
        mapped.uuid,
        coalesce(nullif(trim(event_name_mappings.event), ''), mapped.source_event_name) as event,
        mapped.distinct_id,
        mapped.distinct_id_is_anonymous,
        {{ event_timestamp('mapped.event_at') }} as timestamp,
        {{- backfill.mapped_properties('mapped', 'countries.country_name') }} as properties,
        {{ event_time('mapped.event_at') }} as event_at,
        mapped.source_system,
        mapped.source_event_id,
        mapped.source_event_name,
        mapped.load_id,
        mapped.line_number,
        mapped.groups,
        mapped.person_properties_once,
        mapped.source_context,
        loads.import_job_id

    from mapped
    left join event_name_mappings
        on event_name_mappings.source_system = mapped.source_system
        and event_name_mappings.source_event = mapped.source_event_name
    left join {{ ref('stg_landing__loads') }} as loads
        on loads.load_id = mapped.load_id
    left join {{ ref('country_names') }} as countries
        on countries.country_code = mapped.country_code

),

person_properties as (

    {#- $set and $set_once: the listed keys of the event's own (mapped) properties #}
    select
        *,
        {%- if on_events and person_keys %}
        case source_system
            {%- for source_system in person_keys | map(attribute=0) | unique %}
            when '{{ source_system }}' then {{ backfill.object_of_keys('properties', person_keys | selectattr(0, 'equalto', source_system) | selectattr(1, 'equalto', 'set') | map(attribute=2) | list) }}
            {%- endfor %}
        end as set_text,
        concat_ws(',',
            case source_system
                {%- for source_system in person_keys | map(attribute=0) | unique %}
                when '{{ source_system }}' then {{ backfill.object_of_keys('properties', person_keys | selectattr(0, 'equalto', source_system) | selectattr(1, 'equalto', 'set_once') | map(attribute=2) | list, braces=false) }}
                {%- endfor %}
            end,
            nullif(substr(cast(person_properties_once as {{ backfill.text_type() }}), 2, length(cast(person_properties_once as {{ backfill.text_type() }})) - 2), '')
        ) as set_once_fields
        {%- elif on_events %}
        cast(null as {{ backfill.text_type() }}) as set_text,
        nullif(substr(cast(person_properties_once as {{ backfill.text_type() }}), 2, length(cast(person_properties_once as {{ backfill.text_type() }})) - 2), '') as set_once_fields
        {%- else %}
        cast(null as {{ backfill.text_type() }}) as set_text,
        cast(null as {{ backfill.text_type() }}) as set_once_fields
        {%- endif %}

    from mapped_final

),

final as (

    select
        uuid,
        event,
        distinct_id,
        distinct_id_is_anonymous,
        timestamp,
        properties,
        groups,
        cast('{' || concat_ws(',',
            {{ posthog_markers('source_system', 'import_job_id') }},
            '"$groups":' || cast(groups as {{ backfill.text_type() }}),
            '"$set":' || set_text,
            '"$set_once":{' || nullif(set_once_fields, '') || '}'
        ) || '}' as {{ backfill.json_type_name() }}) as posthog_properties,
        source_context,
        event_at,
        source_system,
        source_event_id,
        source_event_name,
        load_id,
        line_number

    from person_properties

)

select *, {{ backfill.build_id() }} as build_id from final
