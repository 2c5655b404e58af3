{#
  Rows of a mapping seed, read when the model that asks is compiled: the mapping becomes
  constants in the model's SQL (one JSON parse with fixed paths instead of a join per
  record). The model declares `-- depends_on: {{ ref('<seed>') }}` so dbt builds the seed
  first. Empty while dbt parses, before the seed exists, and in unit tests (which give the
  rows they need with `overrides: macros: {seed_rows: [...]}`).
#}
{% macro seed_rows(seed_name, columns, where='true') %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set seed = adapter.get_relation(database=target.database, schema=target.schema, identifier=seed_name) -%}
    {%- if seed is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query("select " ~ columns ~ " from " ~ seed ~ " where " ~ where ~ " order by all") -%}
    {{ return(rows.rows | map('list') | list) }}
{% endmacro %}

{#
  The keys `keys` of the JSON object `object` that it has, as the text of a JSON object
  (`{"a":1}`; with braces=false the fields alone, `"a":1`), null when it has none of them.
  One parse of `object` whatever the number of keys.
#}
{% macro object_of_keys(object, keys, braces=true) -%}
    {{ return(adapter.dispatch('object_of_keys', 'backfill')(object, keys, braces)) }}
{%- endmacro %}
{% macro duckdb__object_of_keys(object, keys, braces=true) -%}
    {%- if keys | length == 0 -%}
        cast(null as varchar)
    {%- else -%}
    list_transform(
        [json_extract({{ object }}, [{% for key in keys %}{{ json_path(key) }}{% if not loop.last %}, {% endif %}{% endfor %}])],
        lambda v: {% if braces %}'{' || {% endif %}nullif(concat_ws(','
            {%- for key in keys %},
            case when v[{{ loop.index }}] is not null then {{ "'" ~ (key | tojson | replace("'", "''")) ~ ":'" }} || v[{{ loop.index }}] end
            {%- endfor %}
        ), ''){% if braces %} || '}'{% endif %}
    )[1]
    {%- endif -%}
{%- endmacro %}
{#- Spark: the same from json_values (1-based there too); doubles written as DuckDB does. #}
{% macro spark__object_of_keys(object, keys, braces=true) -%}
    {%- if keys | length == 0 -%}
        cast(null as string)
    {%- else -%}
    {%- set fields -%}
    transform(
        array({{ backfill.json_values(object, keys) }}),
        v -> {% if braces %}'{' || {% endif %}nullif(concat_ws(','
            {%- for key in keys %},
            {{ backfill.spark__json_literal(key | tojson ~ ':') }} || v[{{ loop.index }}]
            {%- endfor %}
        ), ''){% if braces %} || '}'{% endif %}
    )[0]
    {%- endset -%}
    {{ backfill.spark__json_numbers(fields) }}
    {%- endif -%}
{%- endmacro %}
