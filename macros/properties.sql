{#
  The events mart's property mapping for the records the one-patch path cannot take (see
  models/marts/events.sql): remove what the source drops or renames, then the keys the renames
  give (and the record's own source_event_id when the source has one), then append the renamed
  values (when two old keys give one new key, the first in the record wins) and the provenance. Expects the columns of events.sql's `renamed` step.
#}
{% macro map_properties_carefully() %}
    list_transform(
        [list_filter(list_sort(found), lambda r, i: list_position(list_transform(list_sort(found), lambda x: x.new), r.new) = i)],
        lambda moved: cast('{' || concat_ws(',',
            nullif(list_transform(
                [json_merge_patch(
                    json_merge_patch(source_properties, removals),
                    to_json(map_from_entries(list_concat(
                        list_transform(moved, lambda r: {'k': r.new, 'v': cast(null as json)}),
                        case when source_event_id is not null then [{'k': 'source_event_id', 'v': cast(null as json)}] else [] end
                    )))
                )],
                lambda kept: substr(cast(kept as varchar), 2, length(cast(kept as varchar)) - 2)
            )[1], ''),
            nullif(array_to_string(list_transform(moved, lambda r: cast(to_json(r.new) as varchar) || ':' || r.value), ','), ''),
            provenance
        ) || '}' as json)
    )[1]
{% endmacro %}
