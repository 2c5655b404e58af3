{#
  Seeds on Spark. dbt-spark's session method pastes each value into the INSERT as it is, so a
  quote breaks the statement, backslashes are decoded and an empty cell becomes 'None'. Here
  every value is written as an escaped Spark string literal (null for an empty cell) and cast
  to the column's type, with no bindings.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set col_name = agate_table.column_names[loop.index0] -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ backfill.spark_string_literal(value) }} as {{ type }}){% if not loop.last %}, {% endif %}
                {%- endfor -%}){% if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark_string_literal(value) -%}
    {%- if value is none -%} null
    {%- else -%} '{{ (value | string).replace('\\', '\\\\').replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
