{#
  The events mart's property mappings (models/marts/events.sql), step by step. DuckDB patches
  the JSON object (json_merge_patch); Spark has no JSON type, so there the object is taken as
  its list of entries (key, value JSON text; spark_object_entries), the entries are filtered, and
  the object is written again as text.
#}

{#- property_rules: per source system, its renames (old → new, by old), whether two old keys
    share a new one, and what to remove (dropped and renamed keys, and source_system). #}
{% macro property_rules_columns() %}
    {{ return(adapter.dispatch('property_rules_columns', 'backfill')()) }}
{% endmacro %}

{% macro duckdb__property_rules_columns() %}
        list({'old': source_property, 'new': trim(target_property)} order by source_property)
            filter (where nullif(trim(target_property), '') is not null) as renames,
        count(distinct nullif(trim(target_property), '')) < count(nullif(trim(target_property), '')) as shares_targets,
        to_json(map_from_entries(list_distinct(list_concat(
            list({'k': source_property, 'v': cast(null as json)}),
            [{'k': 'source_system', 'v': cast(null as json)}]
        )))) as removals
{% endmacro %}

{#- Spark: removals is the list of keys to remove. #}
{% macro spark__property_rules_columns() %}
        array_sort(collect_list(named_struct('old', source_property, 'new', trim(target_property)))
            filter (where nullif(trim(target_property), '') is not null)) as renames,
        count(distinct nullif(trim(target_property), '')) < count(nullif(trim(target_property), '')) as shares_targets,
        array_distinct(concat(collect_list(source_property), array('source_system'))) as removals
{% endmacro %}

{#- with_rules: the event's rules (none: remove source_system only) and the record's keys and
    values (DuckDB: only when a key is renamed; Spark: always, as the entries). #}
{% macro rule_columns(events, rules) %}
    {{ return(adapter.dispatch('rule_columns', 'backfill')(events, rules)) }}
{% endmacro %}

{% macro duckdb__rule_columns(events, rules) %}
        coalesce({{ rules }}.renames, []) as renames,
        coalesce({{ rules }}.shares_targets, false) as shares_targets,
        coalesce({{ rules }}.removals, cast('{"source_system":null}' as json)) as removals,
        case when len({{ rules }}.renames) > 0 then json_keys({{ events }}.source_properties) else [] end as record_keys,
        case when len({{ rules }}.renames) > 0 then json_extract({{ events }}.source_properties, '$.*') end as record_values
{% endmacro %}

{% macro spark__rule_columns(events, rules) %}
        coalesce({{ rules }}.renames, cast(array() as array<struct<old:string,new:string>>)) as renames,
        coalesce({{ rules }}.shares_targets, false) as shares_targets,
        coalesce({{ rules }}.removals, array('source_system')) as removals,
        {{ spark_object_entries(events ~ '.source_properties') }} as record_entries
{% endmacro %}

{#- renamed: the renamed keys the record has (position in the record, new name, value JSON). #}
{% macro renamed_found() %}
    {{ return(adapter.dispatch('renamed_found', 'backfill')()) }}
{% endmacro %}

{% macro duckdb__renamed_found() %}
        list_filter(
            list_transform(
                renames,
                lambda r: {'position': list_position(record_keys, r.old), 'new': r.new, 'value': record_values[list_position(record_keys, r.old)]}
            ),
            lambda r: r.position is not null
        ) as found
{% endmacro %}

{#- Spark: array_position is 1-based and 0 when missing; [i] is 0-based (null out of range).
    The record's keys are those of its entries (read once, in with_rules). #}
{% macro spark__renamed_found() %}
        filter(
            transform(
                renames,
                r -> transform(array(array_position(transform(record_entries, e -> e.key), r.old)), pos ->
                    named_struct('position', pos, 'new', r.new, 'value', record_entries[pos - 1].value))[0]
            ),
            r -> r.position > 0
        ) as found
{% endmacro %}

{#- moved: the renames kept (two old keys renamed to one new key: the first in the record wins),
    and the record without the removed keys. #}
{% macro moved_columns() %}
    {{ return(adapter.dispatch('moved_columns', 'backfill')()) }}
{% endmacro %}

{% macro duckdb__moved_columns() %}
        case
            {#- two old keys renamed to one new key: the first in the record wins #}
            when shares_targets then list_filter(list_sort(found), lambda r, i: list_position(list_transform(list_sort(found), lambda x: x.new), r.new) = i)
            else found
        end as moved,
        json_merge_patch(source_properties, removals) as without_removed
{% endmacro %}

{#- Spark: index lambdas count from 0. #}
{% macro spark__moved_columns() %}
        case
            when shares_targets then filter(array_sort(found), (r, i) -> array_position(transform(array_sort(found), x -> x.new), r.new) = i + 1)
            else found
        end as moved,
        filter(record_entries, e -> not array_contains(removals, e.key)) as without_removed
{% endmacro %}

{#- mapped: a renamed key wins over a key of the same name the record already had, and the
    source's event id over the record's own source_event_id (kept when there is none). #}
{% macro kept_column() %}
    {{ return(adapter.dispatch('kept_column', 'backfill')()) }}
{% endmacro %}

{% macro duckdb__kept_column() %}
        case
            {#- a renamed key wins over a key of the same name the record already had, and the
                source's event id over the record's own source_event_id (kept when there is none) #}
            when list_has_any(record_keys, list_transform(moved, lambda r: r.new))
                or (source_event_id is not null and contains(cast(source_properties as varchar), '"source_event_id"'))
                then json_merge_patch(
                    without_removed,
                    to_json(map_from_entries(list_concat(
                        list_transform(moved, lambda r: {'k': r.new, 'v': cast(null as json)}),
                        case when source_event_id is not null then [{'k': 'source_event_id', 'v': cast(null as json)}] else [] end
                    )))
                )
            else without_removed
        end as kept
{% endmacro %}

{#- Spark: filtering always is the same (a key neither renamed to nor source_event_id stays). #}
{% macro spark__kept_column() %}
        filter(
            without_removed,
            e -> not array_contains(transform(moved, r -> r.new), e.key)
                and not (source_event_id is not null and e.key = 'source_event_id')
        ) as kept
{% endmacro %}

{#- mapped_final: the properties as JSON text: the kept keys, the renamed ones, then provenance. #}
{% macro mapped_properties(mapped, country_name) %}
    {{ return(adapter.dispatch('mapped_properties', 'backfill')(mapped, country_name)) }}
{% endmacro %}

{% macro duckdb__mapped_properties(mapped, country_name) %}
        cast('{' || concat_ws(',',
            nullif(substr(cast({{ mapped }}.kept as varchar), 2, length(cast({{ mapped }}.kept as varchar)) - 2), ''),
            nullif(array_to_string(list_transform({{ mapped }}.moved, lambda r: cast(to_json(r.new) as varchar) || ':' || r.value), ','), ''),
            '"source_system":' || cast(to_json({{ mapped }}.source_system) as varchar),
            '"source_event_id":' || cast(to_json({{ mapped }}.source_event_id) as varchar),
            '"$geoip_country_name":' || to_json({{ country_name }})
        ) || '}' as json)
{% endmacro %}

{% macro spark__mapped_properties(mapped, country_name) %}
        '{' || concat_ws(',',
            nullif(array_join(transform({{ mapped }}.kept, e -> {{ spark_json_quote('e.key') }} || ':' || e.value), ','), ''),
            nullif(array_join(transform({{ mapped }}.moved, r -> {{ spark_json_quote('r.new') }} || ':' || r.value), ','), ''),
            '"source_system":' || {{ spark_json_quote(mapped ~ '.source_system') }},
            '"source_event_id":' || {{ spark_json_quote(mapped ~ '.source_event_id') }},
            '"$geoip_country_name":' || {{ spark_json_quote(country_name) }}
        ) || '}'
{% endmacro %}
