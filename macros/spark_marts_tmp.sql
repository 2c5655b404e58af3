{#
  Engine-specific list and aggregate forms the marts need (helper MARTS). Named marts_* so they
  do not collide with the shared macros; the lead may fold them into the shared files.
#}

{# The number of elements of list `x` (a null list counts as none when compared with > 0). #}
{% macro marts_list_length(x) -%}
    {{ return(adapter.dispatch('marts_list_length', 'backfill')(x)) }}
{%- endmacro %}
{% macro duckdb__marts_list_length(x) -%}len({{ x }}){%- endmacro %}
{#- Spark: size(null) is -1 (ANSI off) #}
{% macro spark__marts_list_length(x) -%}size({{ x }}){%- endmacro %}

{# The first element of list `x`. #}
{% macro marts_list_first(x) -%}
    {{ return(adapter.dispatch('marts_list_first', 'backfill')(x)) }}
{%- endmacro %}
{% macro duckdb__marts_list_first(x) -%}{{ x }}[1]{%- endmacro %}
{% macro spark__marts_list_first(x) -%}{{ x }}[0]{%- endmacro %}

{# Aggregate: the distinct values of `x`, sorted. #}
{% macro marts_sorted_distinct_list(x) -%}
    {{ return(adapter.dispatch('marts_sorted_distinct_list', 'backfill')(x)) }}
{%- endmacro %}
{% macro duckdb__marts_sorted_distinct_list(x) -%}list(distinct {{ x }} order by {{ x }}){%- endmacro %}
{% macro spark__marts_sorted_distinct_list(x) -%}array_sort(collect_set({{ x }})){%- endmacro %}

{# Aggregate: `value` of the row with the greatest (`keys`...), compared in order. #}
{% macro marts_arg_max(value, keys) -%}
    {{ return(adapter.dispatch('marts_arg_max', 'backfill')(value, keys)) }}
{%- endmacro %}
{% macro duckdb__marts_arg_max(value, keys) -%}arg_max({{ value }}, ({{ keys | join(', ') }})){%- endmacro %}
{% macro spark__marts_arg_max(value, keys) -%}max_by({{ value }}, struct({{ keys | join(', ') }})){%- endmacro %}

{# In a FROM clause after a relation: one row per element of its list `list`, named `alias`. #}
{% macro marts_unnest(list, alias) -%}
    {{ return(adapter.dispatch('marts_unnest', 'backfill')(list, alias)) }}
{%- endmacro %}
{% macro duckdb__marts_unnest(list, alias) -%}, unnest({{ list }}) as t({{ alias }}){%- endmacro %}
{% macro spark__marts_unnest(list, alias) -%}lateral view explode({{ list }}) t as {{ alias }}{%- endmacro %}

{# The JSON text of the array of texts `items` (SQL expressions), e.g. ["a","b"]. #}
{% macro marts_json_text_array(items) -%}
    {{ return(adapter.dispatch('marts_json_text_array', 'backfill')(items)) }}
{%- endmacro %}
{% macro duckdb__marts_json_text_array(items) -%}to_json([{{ items | join(', ') }}])::varchar{%- endmacro %}
{% macro spark__marts_json_text_array(items) -%}to_json(array({{ items | join(', ') }})){%- endmacro %}

{# Aggregate: the values of `x` sorted, joined with `separator` (an SQL text literal). #}
{% macro marts_sorted_text_agg(x, separator) -%}
    {{ return(adapter.dispatch('marts_sorted_text_agg', 'backfill')(x, separator)) }}
{%- endmacro %}
{% macro duckdb__marts_sorted_text_agg(x, separator) -%}string_agg({{ x }}, {{ separator }} order by {{ x }}){%- endmacro %}
{% macro spark__marts_sorted_text_agg(x, separator) -%}array_join(array_sort(collect_list({{ x }})), {{ separator }}){%- endmacro %}
