{#
  Properties merged over many records, key by key, as persons and groups keep them: for each
  key of the JSON objects in `relation`.`column`, the value of the newest record (by event_at,
  then load_id, line_number, and position in the object) that states it, or with first=true
  the earliest record's (what a `$set_once` would keep). One row per `keys` combination with
  at least one property:
    properties          the merged JSON object, keys in order
    properties_load_id  the newest load a kept value came from
    properties_at       the newest event time a kept value came from
#}
{% macro merged_properties(relation, keys, column, first=false) %}
    {%- set direction = '' if first else ' desc' -%}
    select
        {{ keys | join(', ') }},
        to_json(map_from_entries(list({'k': property, 'v': value} order by property))) as properties,
        max(load_id) as properties_load_id,
        max(event_at) as properties_at

    from (
        select
            {% for key in keys %}records.{{ key }}, {% endfor %}
            property.key as property,
            property.value,
            records.event_at,
            records.load_id

        from {{ relation }} as records, json_each(records.{{ column }}) as property
        where json_type(records.{{ column }}) = 'OBJECT'
        qualify row_number() over (
            partition by {% for key in keys %}records.{{ key }}, {% endfor %}property.key
            order by records.event_at{{ direction }}, records.load_id{{ direction }}, records.line_number{{ direction }}, property.id{{ direction }}
        ) = 1
    )
    group by {{ keys | join(', ') }}
{% endmacro %}
