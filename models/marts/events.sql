{#
  What `sync push` sends: one row per event (the first copy of each valid record, see
  events_duplicates), keyed by
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

property_rules as (

    {#- one row per source system: its renames; the keys it drops or renames (a JSON patch that
        removes them, and the same as text); whether it may use the one-patch path below #}
    select
        source_system,
        list({'old': source_property, 'new': trim(target_property)} order by source_property)
            filter (where nullif(trim(target_property), '') is not null) as renames,
        to_json(map_from_entries(list_distinct(list_concat(
            list({'k': source_property, 'v': cast(null as json)}),
            [{'k': 'source_system', 'v': cast(null as json)}]
        )))) as removals,
        array_to_string(list(cast(to_json(source_property) as varchar) || ':null'), ',') as removals_text,
        {#- no new key given twice, or also dropped or renamed; no key named like a provenance key #}
        count(distinct nullif(trim(target_property), '')) = count(nullif(trim(target_property), ''))
            and count(*) filter (where trim(target_property) in (select source_property from {{ ref('property_mappings') }} as m where m.source_system = property_mappings.source_system)) = 0
            and count(*) filter (where source_property in ('source_system', 'source_event_id')
                                    or trim(target_property) in ('source_system', 'source_event_id')) = 0
            as plain

    from {{ ref('property_mappings') }} as property_mappings
    group by source_system

),

with_rules as (

    select
        valid_events.*,
        coalesce(property_rules.renames, []) as renames,
        coalesce(property_rules.plain, true) as plain,
        coalesce(property_rules.removals, cast('{"source_system":null}' as json)) as removals,
        property_rules.removals_text,
        case when len(property_rules.renames) > 0 then json_keys(valid_events.source_properties) else [] end as record_keys,
        case when len(property_rules.renames) > 0 then json_extract(valid_events.source_properties, '$.*') end as record_values

    from valid_events
    left join property_rules
        on property_rules.source_system = valid_events.source_system

),

renamed as (

    {#- the renamed keys the record has: position in the record, new name, value (JSON) #}
    select
        *,
        list_filter(
            list_transform(
                renames,
                lambda r: {'position': list_position(record_keys, r.old), 'new': r.new, 'value': record_values[list_position(record_keys, r.old)]}
            ),
            lambda r: r.position is not null
        ) as found,
        {#- a record's own source_event_id stays when the source has no event id #}
        '"source_system":' || cast(to_json(source_system) as varchar)
            || coalesce(',"source_event_id":' || cast(to_json(source_event_id) as varchar), '') as provenance

    from with_rules

),

mapped as (

    select
        *,
        case
            {#- the usual case, in one JSON merge patch: drop and rename keys, add provenance. Not
                when a renamed value is null or an object (a patch would delete or merge it), or
                the record already has a key the rename gives #}
            when plain
                and not coalesce(list_bool_or(list_transform(found, lambda r: r.value = 'null' or starts_with(r.value, '{'))), false)
                and not list_has_any(record_keys, list_transform(found, lambda r: r.new))
                then json_merge_patch(
                    source_properties,
                    '{' || concat_ws(',',
                        removals_text,
                        nullif(array_to_string(list_transform(found, lambda r: cast(to_json(r.new) as varchar) || ':' || r.value), ','), ''),
                        provenance
                    ) || '}'
                )
            else {{ backfill.map_properties_carefully() }}
        end as properties

    from renamed

),

final as (

    select
        mapped.uuid,
        coalesce(nullif(trim(event_name_mappings.event), ''), mapped.source_event_name) as event,
        mapped.distinct_id,
        mapped.distinct_id_is_anonymous,
        {{ to_iso8601_utc('mapped.event_at') }} as timestamp,
        mapped.properties,
        mapped.event_at,
        mapped.source_system,
        mapped.source_event_id,
        mapped.source_event_name,
        mapped.load_id,
        mapped.line_number

    from mapped
    left join event_name_mappings
        on event_name_mappings.source_system = mapped.source_system
        and event_name_mappings.source_event = mapped.source_event_name

)

select *, {{ backfill.build_id() }} as build_id from final
