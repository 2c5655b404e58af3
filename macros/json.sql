{# Text with surrounding whitespace removed; null when nothing is left. #}
{% macro nonblank(expr) %}
    nullif(trim(cast({{ expr }} as varchar)), '')
{% endmacro %}

{#
  Reading untrusted JSON records. `path` is dotted ('properties.$insert_id'); every part is
  quoted, so keys starting with `$` work as they are.
#}
{% macro json_path(path) -%}
    '$.{% for part in path.split('.') %}"{{ part }}"{% if not loop.last %}.{% endif %}{% endfor %}'
{%- endmacro %}

{#
  The JSON values at each of `paths` (objects, arrays, text as JSON; missing as null), read
  with one parse of `record`: a list to pick from with value_text, first_of and object_or.
#}
{% macro json_values(record, paths) -%}
    json_extract({{ record }}, [{% for path in paths %}{{ json_path(path) }}{% if not loop.last %}, {% endif %}{% endfor %}])
{%- endmacro %}

{# The text of a JSON value (a string unquoted, a number or object as its JSON text; JSON null as null). #}
{% macro value_text(value) -%}
    json_extract_string({{ value }}, '$')
{%- endmacro %}

{# The first non-blank text among the `values` list's elements at `positions` (1-based), else null. #}
{% macro first_of(values, positions) -%}
    coalesce({% for i in positions %}{{ nonblank(value_text(values ~ '[' ~ i ~ ']')) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{# `value` (JSON) when it is an object, else `otherwise` (default: an empty object). An
   extracted JSON value is an object exactly when its text starts with a brace. #}
{% macro object_or(value, otherwise="cast('{}' as json)") -%}
    case when starts_with({{ value }}, '{') then {{ value }} else {{ otherwise }} end
{%- endmacro %}

{# The first of `paths` whose value is non-blank text (numbers become text), else null. #}
{% macro first_text(record, paths) -%}
    coalesce({% for path in paths %}{{ nonblank(record ~ "->>" ~ json_path(path)) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#
  `record`'s JSON as compact text, so a content-derived uuid does not depend on the spacing
  of the export (the same record from a pretty-printed array and from JSON lines agree).
  Key order is kept: records are hashed as the source wrote them.
#}
{% macro canonical_json(record) -%}
    cast(json({{ record }}) as varchar)
{%- endmacro %}

{#
  `object` (a JSON object) with extra keys; `keys` maps each new key to an SQL expression.
  A null value adds nothing and removes nothing (unlike json_merge_patch, where null deletes).
#}
{% macro json_add_keys(object, keys) -%}
    json_merge_patch({{ object }}, to_json(map_from_entries(list_filter([
        {%- for key, expr in keys.items() %}{'k': '{{ key }}', 'v': to_json({{ expr }})}{% if not loop.last %}, {% endif %}{% endfor -%}
    ], lambda e: e.v is not null))))
{%- endmacro %}


{#
  A JSON pointer (RFC 6901) to the value under the keys `parts` (SQL text expressions), for
  keys only known at run time: any key works, `$`, `/`, `~`, dots and quotes included.
#}
{% macro json_pointer(parts) -%}
    ('/' || {% for part in parts %}replace(replace({{ part }}, '~', '~0'), '/', '~1'){% if not loop.last %} || '/' || {% endif %}{% endfor %})
{%- endmacro %}

{#
  The JSON object `object` with only the entries (`p.key`, `p.value`) for which `keep` holds,
  in their order, each under the key `key` (default: as it was); null when none is kept.
#}
{% macro object_where(object, keep, key='p.key') -%}
    (
        select to_json(map_from_entries(list({'k': {{ key }}, 'v': p.value} order by p.id)))
        from json_each({{ object }}) as p
        where {{ keep }}
    )
{%- endmacro %}
