{#
  Unit-test fixtures on Spark. Fixture rows give list and struct values as DuckDB literals
  (`[{'k': 'v'}, ...]`); dbt-spark pastes such a value into `cast(... as array<...>)` as it is.
  This override (found first through the `dispatch` setting in dbt_project.yml; DuckDB keeps
  dbt's own) reads the literal (it is YAML flow syntax) and writes it with Spark's `array(...)`
  and `named_struct(...)`. Other values are cast as dbt-spark does.
#}
{% macro spark__safe_cast(field, type) %}
    {%- set complex = type.lower().startswith('struct') or type.lower().startswith('array') or type.lower().startswith('map') -%}
    {%- if complex and field is string and field.startswith("'") and field.endswith("'") -%}
        {%- set literal = field[1:-1].replace("\\'", "'") -%}
        cast({{ backfill.spark_literal(fromyaml(literal)) }} as {{ type }})
    {%- else -%}
        {%- set field_clean = field.strip('"').strip("'") if (complex and field is string) else field -%}
        cast({{ field_clean }} as {{ type }})
    {%- endif -%}
{% endmacro %}

{#- A YAML value (list, mapping, text, number, boolean, null) as a Spark SQL expression. #}
{% macro spark_literal(value) -%}
    {%- if value is none -%} null
    {%- elif value is mapping -%} named_struct({% for k, v in value.items() %}'{{ k }}', {{ backfill.spark_literal(v) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- elif value is string -%} '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- elif value is sameas true -%} true
    {%- elif value is sameas false -%} false
    {%- elif value is number -%} {{ value }}
    {%- elif value is iterable -%} array({% for v in value %}{{ backfill.spark_literal(v) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%} {{ value }}
    {%- endif -%}
{%- endmacro %}
