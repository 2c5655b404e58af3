{# Every column of `relation` (an alias) but `columns`: DuckDB's `* exclude (...)`, Spark's `* except (...)`. #}
{% macro star_except(relation, columns) -%}
    {{ return(adapter.dispatch('star_except', 'backfill')(relation, columns)) }}
{%- endmacro %}
{% macro default__star_except(relation, columns) -%}
    {{ relation }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}
{% macro spark__star_except(relation, columns) -%}
    {{ relation }}.* except ({{ columns | join(', ') }})
{%- endmacro %}
