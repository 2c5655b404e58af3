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

property_rules as (

    {#- one row per source system: the keys it drops, and the keys it renames, in seed order #}
    select
        source_system,
        list(source_property) filter (where nullif(trim(target_property), '') is null) as dropped,
        list({'old': source_property, 'new': trim(target_property)})
            filter (where nullif(trim(target_property), '') is not null) as renames

    from property_mappings
    group by source_system

),

with_rules as (

    select
        valid_events.*,
        coalesce(property_rules.dropped, []) as dropped,
        coalesce(property_rules.renames, []) as renames

    from valid_events
    left join property_rules
        on property_rules.source_system = valid_events.source_system

),

renamed as (

    {#- the renamed keys the record has: new name, value (JSON text), position in the record #}
    select
        *,
        list_filter(
            list_transform(
                renames,
                lambda r, i: {
                    'position': list_position(json_keys(source_properties), r.old),
                    'new': r.new,
                    'value': json_extract(source_properties, {{ json_key_path('r.old') }})
                }
            ),
            lambda r: r.value is not null
        ) as found

    from with_rules

),

mapped as (

    select
        *,
        {#- two old keys renamed to one new key: the first in the record wins #}
        list_filter(list_sort(found), lambda r, i: list_position(list_transform(list_sort(found), lambda x: x.new), r.new) = i) as moved,
        json_merge_patch(
            source_properties,
            to_json(map_from_entries(list_transform(
                list_distinct(list_concat(
                    dropped,
                    list_transform(renames, lambda r: r.old),
                    list_transform(found, lambda r: r.new),
                    ['source_system', 'source_event_id']
                )),
                lambda key: {'k': key, 'v': cast(null as json)}
            )))
        ) as kept

    from renamed

),

final as (

    select
        mapped.uuid,
        coalesce(nullif(trim(event_name_mappings.event), ''), mapped.source_event_name) as event,
        mapped.distinct_id,
        mapped.distinct_id_is_anonymous,
        {{ to_iso8601_utc('mapped.event_at') }} as timestamp,
        cast('{' || concat_ws(',',
            nullif(substr(cast(mapped.kept as varchar), 2, length(cast(mapped.kept as varchar)) - 2), ''),
            nullif(array_to_string(list_transform(mapped.moved, lambda r: cast(to_json(r.new) as varchar) || ':' || r.value), ','), ''),
            '"source_system":' || cast(to_json(mapped.source_system) as varchar),
            '"source_event_id":' || cast(to_json(mapped.source_event_id) as varchar)
        ) || '}' as json) as properties,
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
