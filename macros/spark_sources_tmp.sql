{#
  Spark-only JSON text helpers used by the source staging models (helper SOURCES). JSON is
  plain text on Spark; these build or read it keeping DuckDB's key order and value types.
#}

{#
  The double `d` as DuckDB's to_json writes it: shortest digits, positional notation from 1e-6
  up to 1e21 (integers with `.0`), otherwise `1.5e300`/`1e-7`; NaN and infinities give null.
  Java's text (`1.0E-5`, `1.2345678E7`) is taken apart into digits and exponent.
#}
{% macro spark_json_double(d) -%}
    transform(array(cast(cast({{ d }} as double) as string)), s -> case
        when s is null or s in ('NaN', 'Infinity', '-Infinity') then null
        when not s like '%E%' then s
        else transform(
            array(named_struct(
                'sign', case when s like '-%' then '-' else '' end,
                'digits', coalesce(nullif(trim(TRAILING '0' FROM replace(regexp_extract(s, '^-?([0-9.]+)E', 1), '.', '')), ''), '0'),
                'e', cast(regexp_extract(s, 'E(-?[0-9]+)$', 1) as int)
            )),
            n -> n.sign || case
                when n.e >= 21 or n.e < -6 then
                    substr(n.digits, 1, 1) || case when length(n.digits) > 1 then '.' || substr(n.digits, 2) else '' end || 'e' || n.e
                when n.e < 0 then '0.' || repeat('0', -n.e - 1) || n.digits
                when length(n.digits) <= n.e + 1 then n.digits || repeat('0', n.e + 1 - length(n.digits)) || '.0'
                else substr(n.digits, 1, n.e + 1) || '.' || substr(n.digits, n.e + 2)
            end
        )[0]
    end)[0]
{%- endmacro %}

{#
  The entries of JSON object text `object` in their order, as an array of (key, value) with each
  value as JSON text (strings quoted, JSON null as `null`), as DuckDB's json_each gives them.
  Not an object: null.
#}
{% macro spark_json_entries(object) -%}
    zip_with(
        map_entries(from_json({{ object }}, 'map<string,string>')),
        map_values(from_json({{ object }}, 'map<string,variant>')),
        (e, t) -> named_struct('key', e.key, 'value', case
            when e.value is null then 'null'
            when schema_of_variant(t) = 'STRING' then {{ backfill.spark__json_scalar('e.value') }}
            else e.value
        end)
    )
{%- endmacro %}

{#
  dbt unit tests on Spark: fixture values for list and struct columns are written as DuckDB
  literals ("[{'k': 'v'}]"), which Spark cannot parse or cast from text. This overrides
  dbt-spark's safe_cast to rewrite such a literal as array(...)/named_struct(...) first; any
  other value is cast as dbt-spark does.
#}
{% macro spark__safe_cast(field, type) %}
    {%- set kind = type.lower() -%}
    {%- if field is string and (kind.startswith('array') or kind.startswith('struct')) and field.strip().startswith("'") -%}
        {%- set text = field.strip()[1:-1] | replace("\\'", "'") -%}
        {%- set out = [] -%}
        {%- for token in modules.re.findall("'(?:[^'\\\\]|\\\\.|'')*'|[\\[\\]{}:,]|[^\\s\\[\\]{}:,']+", text) -%}
            {%- if token == '[' -%}{%- do out.append('array(') -%}
            {%- elif token == '{' -%}{%- do out.append('named_struct(') -%}
            {%- elif token in (']', '}') -%}{%- do out.append(')') -%}
            {%- elif token in (':', ',') -%}{%- do out.append(', ') -%}
            {%- elif token.startswith("'") -%}{%- do out.append("'" ~ (token[1:-1] | replace("''", "'") | replace("\\", "\\\\") | replace("'", "\\'")) ~ "'") -%}
            {%- else -%}{%- do out.append(token) -%}
            {%- endif -%}
        {%- endfor -%}
        cast({{ out | join('') }} as {{ type }})
    {%- else -%}
        {#- as dbt-spark's own: a complex type's value is pasted without its quotes #}
        {%- set complex = kind.startswith('array') or kind.startswith('struct') or kind.startswith('map') -%}
        cast({{ field.strip('"').strip("'") if (complex and field is string) else field }} as {{ type }})
    {%- endif -%}
{% endmacro %}
