{#
  A raw table that may not have been landed yet (`sync load table NAME` creates it on first
  load): the relation when it exists, else an empty stand-in with the same columns, so the
  staging models built on it still build, with no rows.
#}
{% macro raw_table_or_empty(relation) %}
    {%- if execute and load_relation(relation) is none -%}
        (select
            cast(null as bigint) as load_id,
            cast(null as bigint) as line_number,
            cast(null as {{ backfill.text_type() }}) as file_path,
            cast(null as timestamp) as loaded_at,
            cast(null as {{ backfill.json_type_name() }}) as record
        where false)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}
