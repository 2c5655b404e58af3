{#
  What `sync push` sends: one row per event (the first copy of each valid record), keyed by
  uuid, with the analysts' mappings applied:
  - event name: `event_name_mappings` seed, else the source's name;
  - properties: `property_mappings` seed renames or (empty target) drops keys; a renamed
    key wins over an existing key of the same name; nested values, nulls and Unicode are
    copied as they are;
  - provenance: `source_system` and `source_event_id` are added to properties.
  Incremental by load: a build maps only the events of loads newer than the newest one here.
  After changing a mapping, run `dbt build --full-refresh`; events already delivered are not
  sent again (the push ledger remembers them by uuid).
#}

{%- set new_loads = backfill.new_loads() %}

with

valid_events as (

    select * from {{ ref('int_events__validated') }}
    where copy_number = 1 and {{ new_loads }}

),

event_name_mappings as (

    select * from {{ ref('event_name_mappings') }}

),

property_mappings as (

    select * from {{ ref('property_mappings') }}

),

source_properties as (

    select
        valid_events.uuid,
        valid_events.source_system,
        property.key as source_property,
        property.value,
        property.id as position

    from valid_events, json_each(valid_events.source_properties) as property

),

renamed_properties as (

    select
        source_properties.uuid,
        coalesce(property_mappings.source_property is not null, false) as is_renamed,
        coalesce(nullif(trim(property_mappings.target_property), ''), source_properties.source_property) as property,
        source_properties.value,
        source_properties.position

    from source_properties
    left join property_mappings
        on property_mappings.source_system = source_properties.source_system
        and property_mappings.source_property = source_properties.source_property
    where property_mappings.source_property is null
        or nullif(trim(property_mappings.target_property), '') is not null

),

provenance_properties as (

    select uuid, 'source_system' as property, to_json(source_system) as value, 1e12 as position
    from valid_events
    union all
    select uuid, 'source_event_id' as property, to_json(source_event_id) as value, 1e12 + 1 as position
    from valid_events
    where source_event_id is not null

),

all_properties as (

    select uuid, 0 as priority, property, value, position from provenance_properties
    union all
    select uuid, case when is_renamed then 1 else 2 end as priority, property, value, position
    from renamed_properties

),

one_value_per_property as (

    select * from all_properties
    qualify row_number() over (partition by uuid, property order by priority, position) = 1

),

regrouped_properties as (

    select
        uuid,
        to_json(map_from_entries(list({'k': property, 'v': value} order by position))) as properties

    from one_value_per_property
    group by uuid

),

final as (

    select
        valid_events.uuid,
        coalesce(nullif(trim(event_name_mappings.event), ''), valid_events.source_event_name) as event,
        valid_events.distinct_id,
        valid_events.distinct_id_is_anonymous,
        {{ to_iso8601_utc('valid_events.event_at') }} as timestamp,
        cast(regrouped_properties.properties as json) as properties,
        valid_events.event_at,
        valid_events.source_system,
        valid_events.source_event_id,
        valid_events.source_event_name,
        valid_events.load_id,
        valid_events.line_number

    from valid_events
    inner join regrouped_properties
        on regrouped_properties.uuid = valid_events.uuid
    left join event_name_mappings
        on event_name_mappings.source_system = valid_events.source_system
        and event_name_mappings.source_event = valid_events.source_event_name

)

select *, {{ backfill.build_id() }} as build_id from final
