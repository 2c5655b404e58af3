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

{#
  Model contracts on Spark: the yml declares DuckDB type names (varchar, json, varchar[]);
  dbt checks a contract by casting nulls to the declared types, which on Spark are read as
  the Spark types (`string`, `array<string>`). Found before dbt's own version through the
  `dispatch` setting in dbt_project.yml; DuckDB keeps dbt's.
#}
{% macro spark_type_of(data_type) -%}
    {%- set t = data_type | trim | lower -%}
    {%- if t.endswith('[]') -%} array<{{ backfill.spark_type_of(t[:-2]) }}>
    {%- elif t in ('varchar', 'text', 'json', 'uuid') -%} string
    {%- elif t == 'hugeint' -%} decimal(38, 0)
    {%- else -%} {{ data_type }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) %}
    {%- set translated = {} -%}
    {%- for name in columns -%}
        {%- set col = columns[name].copy() if columns[name] is mapping else columns[name] -%}
        {%- if col['data_type'] is defined and col['data_type'] is not none -%}
            {%- do col.update({'data_type': backfill.spark_type_of(col['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: col}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{% endmacro %}
