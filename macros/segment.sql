{#
  Segment's `context` object built from `values` (the JSON values of the properties the
  `segment_fields` seed maps, in the order of `mapped`, a list of (property, 'context.a.b')):
  fields directly under context (ip, userAgent) and one object per second-level name
  (location, page, os, device). Null when the event has none of them. When two properties map to
  one field, the first listed that the event has wins.
#}
{% macro segment_context(mapped, values) -%}
    {{ return(adapter.dispatch('segment_context', 'backfill')(mapped, values)) }}
{%- endmacro %}

{#- Spark: the values' numbers may be in Java's exponent form: written as DuckDB writes them,
    once over the built text #}
{% macro spark__segment_context(mapped, values) -%}
    {{ backfill.spark__json_numbers(backfill.default__segment_context(mapped, values)) }}
{%- endmacro %}

{% macro default__segment_context(mapped, values) -%}
    {%- set top = [] -%}
    {%- set groups = {} -%}
    {%- for property, field in mapped -%}
        {%- set parts = field.split('.')[1:] -%}
        {%- if parts | length == 1 -%}
            {%- do top.append((parts[0], loop.index)) -%}
        {%- else -%}
            {%- do groups.setdefault(parts[0], []).append((parts[1:] | join('.'), loop.index)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if mapped | length == 0 -%}
        cast(null as {{ backfill.text_type() }})
    {%- else -%}
    nullif('{' || concat_ws(','
        {%- for name in top | map(attribute=0) | unique %},
        {{ "'" ~ (name | tojson) ~ ":'" }} || coalesce({% for field, index in top if field == name %}{{ values }}[{{ index }}]{% if not loop.last %}, {% endif %}{% endfor %})
        {%- endfor %}
        {%- for group, fields in groups.items() %},
        nullif({{ "'" ~ (group | tojson) ~ ":{'" }} || concat_ws(','
            {%- for name in fields | map(attribute=0) | unique %},
            {{ "'" ~ (name | tojson) ~ ":'" }} || coalesce({% for field, index in fields if field == name %}{{ values }}[{{ index }}]{% if not loop.last %}, {% endif %}{% endfor %})
            {%- endfor %}
        ) || '}', {{ "'" ~ (group | tojson) ~ ":{}'" }})
        {%- endfor %}
    ) || '}', '{}')
    {%- endif -%}
{%- endmacro %}

{# `object` (JSON) without its keys that start with `$`. #}
{% macro without_dollar_keys(object) -%}
    case
        when contains(cast({{ object }} as {{ backfill.text_type() }}), '"$') then
            coalesce({{ object_where(object, 'not ' ~ backfill.text_starts_with('p.key', "'$'")) }}, {{ backfill.as_json("'{}'") }})
        else {{ object }}
    end
{%- endmacro %}
