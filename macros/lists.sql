{#
  Lists and aggregates that DuckDB and Spark spell differently, for the marts (each dispatched:
  duckdb__ and spark__).
#}

{# The number of elements of list `x` (a null list counts as none when compared with > 0). #}
{% macro list_length(x) -%}
    {{ return(adapter.dispatch('list_length', 'backfill')(x)) }}
{%- endmacro %}
{% macro duckdb__list_length(x) -%}len({{ x }}){%- endmacro %}
{#- Spark: size(null) is -1 (ANSI off) #}
{% macro spark__list_length(x) -%}size({{ x }}){%- endmacro %}

{# The first element of list `x`. #}
{% macro list_first(x) -%}
    {{ return(adapter.dispatch('list_first', 'backfill')(x)) }}
{%- endmacro %}
{% macro duckdb__list_first(x) -%}{{ x }}[1]{%- endmacro %}
{% macro spark__list_first(x) -%}{{ x }}[0]{%- endmacro %}

{# Aggregate: the distinct values of `x`, sorted. #}
{% macro sorted_distinct_list(x) -%}
    {{ return(adapter.dispatch('sorted_distinct_list', 'backfill')(x)) }}
{%- endmacro %}
{% macro duckdb__sorted_distinct_list(x) -%}list(distinct {{ x }} order by {{ x }}){%- endmacro %}
{% macro spark__sorted_distinct_list(x) -%}array_sort(collect_set({{ x }})){%- endmacro %}

{# Aggregate: `value` of the row with the greatest (`keys`...), compared in order. #}
{% macro arg_max(value, keys) -%}
    {{ return(adapter.dispatch('arg_max', 'backfill')(value, keys)) }}
{%- endmacro %}
{% macro duckdb__arg_max(value, keys) -%}arg_max({{ value }}, ({{ keys | join(', ') }})){%- endmacro %}
{% macro spark__arg_max(value, keys) -%}max_by({{ value }}, struct({{ keys | join(', ') }})){%- endmacro %}

{# In a FROM clause after a relation: one row per element of its list `list`, named `alias`. #}
{% macro unnest(list, alias) -%}
    {{ return(adapter.dispatch('unnest', 'backfill')(list, alias)) }}
{%- endmacro %}
{% macro duckdb__unnest(list, alias) -%}, unnest({{ list }}) as t({{ alias }}){%- endmacro %}
{% macro spark__unnest(list, alias) -%}lateral view explode({{ list }}) t as {{ alias }}{%- endmacro %}

{# The JSON text of the array of texts `items` (SQL expressions), e.g. ["a","b"]. #}
{% macro json_text_array(items) -%}
    {{ return(adapter.dispatch('json_text_array', 'backfill')(items)) }}
{%- endmacro %}
{% macro duckdb__json_text_array(items) -%}to_json([{{ items | join(', ') }}])::varchar{%- endmacro %}
{% macro spark__json_text_array(items) -%}to_json(array({{ items | join(', ') }})){%- endmacro %}

{# Aggregate: the values of `x` sorted, joined with `separator` (an SQL text literal). #}
{% macro sorted_text_agg(x, separator) -%}
    {{ return(adapter.dispatch('sorted_text_agg', 'backfill')(x, separator)) }}
{%- endmacro %}
{% macro duckdb__sorted_text_agg(x, separator) -%}string_agg({{ x }}, {{ separator }} order by {{ x }}){%- endmacro %}
{% macro spark__sorted_text_agg(x, separator) -%}array_join(array_sort(collect_list({{ x }})), {{ separator }}){%- endmacro %}
