{#
  JSON read and written as text by the source staging models. On Spark JSON is plain text:
  these keep DuckDB's key order, number forms and value types, so both engines write the
  same bytes (uuids hash some of them).
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
            when schema_of_variant(t) = 'STRING' then {{ backfill.spark__json_string('e.value') }}
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

{#
  A text value for json_add_keys, whose key is also listed in its `json_keys`. DuckDB: the
  expression as it is (json_add_keys's to_json quotes it). Spark: its JSON string written here,
  without json_scalar's rewriting of numbers (text holds none), which keeps view text short.
#}
{% macro add_key_text(expr) -%}
    {{ return(adapter.dispatch('add_key_text', 'backfill')(expr)) }}
{%- endmacro %}

{% macro default__add_key_text(expr) -%}
    {{ expr }}
{%- endmacro %}

{% macro spark__add_key_text(expr) -%}
    {{ backfill.spark__json_string(expr) }}
{%- endmacro %}

{# An extracted JSON value (json_values) that is present and not JSON null. #}
{% macro json_is_value(value) -%}
    {{ return(adapter.dispatch('json_is_value', 'backfill')(value)) }}
{%- endmacro %}

{% macro default__json_is_value(value) -%}
    json_type({{ value }}) not in ('NULL')
{%- endmacro %}

{#- Spark: the JSON text is compact; JSON null is the text `null`, a missing value SQL null #}
{% macro spark__json_is_value(value) -%}
    {{ value }} <> 'null'
{%- endmacro %}

{#
  The texts of every value of a json_values list (as value_text reads each), computed once per
  row: a list with the same positions. For models that read many fields as text (Spark keeps a
  view's text to 32 KB, and value_text is long there).
#}
{% macro value_texts(values) -%}
    {{ return(adapter.dispatch('value_texts', 'backfill')(values)) }}
{%- endmacro %}

{% macro duckdb__value_texts(values) -%}
    list_transform({{ values }}, lambda v: {{ value_text('v') }})
{%- endmacro %}

{% macro spark__value_texts(values) -%}
    transform({{ values }}, v -> {{ value_text('v') }})
{%- endmacro %}

{# The first non-blank text among the `texts` list's elements at `positions` (first_of on value_texts). #}
{% macro first_text_at(texts, positions) -%}
    coalesce({% for i in positions %}{{ nonblank(texts ~ '[' ~ i ~ ']') }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{# The text at `texts[position]` as an id (raw_id on value_texts): untouched, null when blank. #}
{% macro raw_id_at(texts, position) -%}
    case when trim({{ texts }}[{{ position }}]) <> '' then {{ texts }}[{{ position }}] end
{%- endmacro %}

{# The JSON text of a text value (DuckDB's to_json of a varchar); Spark: no number rewriting. #}
{% macro json_string(expr) -%}
    {{ return(adapter.dispatch('json_string', 'backfill')(expr)) }}
{%- endmacro %}

{% macro default__json_string(expr) -%}
    to_json({{ expr }})
{%- endmacro %}

{% macro spark__json_string(expr) -%}
    {{ backfill.spark_to_json('cast(' ~ expr ~ ' as string)') }}
{%- endmacro %}

{# The JSON text of an integer value (DuckDB's to_json of a bigint). #}
{% macro json_integer(expr) -%}
    {{ return(adapter.dispatch('json_integer', 'backfill')(expr)) }}
{%- endmacro %}

{% macro default__json_integer(expr) -%}
    to_json({{ expr }})
{%- endmacro %}

{% macro spark__json_integer(expr) -%}
    cast({{ expr }} as string)
{%- endmacro %}

{# Text read as a bigint as DuckDB's try_cast does (a fraction rounds half away from zero,
   `1e3` is 1000); null when it is not a number or out of range. #}
{% macro text_to_bigint(expr) -%}
    {{ return(adapter.dispatch('text_to_bigint', 'backfill')(expr)) }}
{%- endmacro %}

{% macro default__text_to_bigint(expr) -%}
    try_cast({{ expr }} as bigint)
{%- endmacro %}

{#- Spark: its try_cast to bigint refuses fractions; through decimal(38, 0) it rounds half up #}
{% macro spark__text_to_bigint(expr) -%}
    try_cast(try_cast({{ expr }} as decimal(38, 0)) as bigint)
{%- endmacro %}
