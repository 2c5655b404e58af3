{#
  Properties merged over many records, key by key, as persons and groups keep them: for each
  key of the JSON objects in `relation`.`column`, the value of the newest record (by event_at,
  then load_id, line_number, and position in the object) that states it, or with first=true
  the earliest record's (what a `$set_once` would keep). One row per `keys` combination with
  at least one property:
    properties          the merged JSON object, keys in order
    properties_load_id  the newest load a kept value came from
    properties_at       the newest event time a kept value came from
#}
{% macro merged_properties(relation, keys, column, first=false) %}
    {%- set direction = '' if first else ' desc' -%}
    select
        {{ keys | join(', ') }},
        {{ backfill.object_of_sorted_entries('property', 'value') }} as properties,
        max(load_id) as properties_load_id,
        max(event_at) as properties_at

    from (
        select
            {% for key in keys %}records.{{ key }}, {% endfor %}
            property.key as property,
            property.value,
            records.event_at,
            records.load_id

        from {{ relation }} as records{{ backfill.with_object_entries('records.' ~ column) }}
        qualify row_number() over (
            partition by {% for key in keys %}records.{{ key }}, {% endfor %}property.key
            order by records.event_at{{ direction }}, records.load_id{{ direction }}, records.line_number{{ direction }}, {{ backfill.entry_position() }}{{ direction }}
        ) = 1
    )
    group by {{ keys | join(', ') }}
{% endmacro %}

{#- Each record joined to the entries of its JSON object `column` as `property` (key, value as
    JSON text); records whose column is not an object have none. #}
{% macro with_object_entries(column) %}{{ return(adapter.dispatch('with_object_entries', 'backfill')(column)) }}{% endmacro %}
{% macro duckdb__with_object_entries(column) -%}
    , json_each({{ column }}) as property
        where json_type({{ column }}) = 'OBJECT'
{%- endmacro %}
{#- Spark: each value's JSON text as DuckDB writes it (spark_object_entries). #}
{% macro spark__with_object_entries(column) %}
        lateral view posexplode({{ spark_object_entries(column) }}) entries as position, property
{% endmacro %}

{#- An entry's position in its object, from with_object_entries. #}
{% macro entry_position() %}{{ return(adapter.dispatch('entry_position', 'backfill')()) }}{% endmacro %}
{% macro duckdb__entry_position() %}property.id{% endmacro %}
{% macro spark__entry_position() %}entries.position{% endmacro %}

{#- The JSON object of the aggregated (key, JSON text) pairs, keys in order. On Spark written as
    text, keys sorted by their bytes: persons' and groups' uuids hash it, so it is DuckDB's text. #}
{% macro object_of_sorted_entries(key, value) %}{{ return(adapter.dispatch('object_of_sorted_entries', 'backfill')(key, value)) }}{% endmacro %}
{% macro duckdb__object_of_sorted_entries(key, value) -%}
    to_json(map_from_entries(list({'k': {{ key }}, 'v': {{ value }}} order by {{ key }})))
{%- endmacro %}
{% macro spark__object_of_sorted_entries(key, value) -%}
    '{' || array_join(transform(
            array_sort(collect_list(named_struct('k', {{ key }}, 'v', {{ value }}))),
            e -> {{ spark_json_quote('e.k') }} || ':' || e.v
        ), ',') || '}'
{%- endmacro %}

{#
  Spark only: JSON text as DuckDB's JSON functions write it. Spark has no JSON type: objects
  are read as a map of texts (keeps key order; Jackson rewrites nested values and numbers) and
  as a map of variants (keeps each value's type, loses nested key order); each value's text is
  then made DuckDB's: strings escaped as DuckDB escapes them, doubles in DuckDB's notation.
#}

{# `s` (text) as a JSON string literal, escaped as DuckDB's to_json does; null stays null. #}
{% macro spark_json_quote(s) -%}
    to_json(cast({{ s }} as variant))
{%- endmacro %}

{#
  The top-level entries of JSON object text `object`, in its order, as an array of
  struct(key, value), each value as JSON text the way DuckDB's json_each writes it (strings
  quoted, JSON null as `null`, doubles re-written, nested objects and arrays compact, their keys
  in order). Null when `object` is not a JSON object.
#}
{% macro spark_object_entries(object) -%}
    transform(
        array(named_struct('m', from_json({{ object }}, 'map<string,string>'), 'v', from_json({{ object }}, 'map<string,variant>'))),
        je -> transform(map_keys(je.m), jk -> named_struct('key', jk, 'value', case
            when je.m[jk] is null then 'null'
            when schema_of_variant(je.v[jk]) = 'STRING' then to_json(je.v[jk])
            when startswith(je.m[jk], '{') or startswith(je.m[jk], '[') then {{ spark_json_nested_text('je.m[jk]') }}
            when je.m[jk] rlike '[.E]' then {{ spark_json_double_text('je.m[jk]') }}
            else je.m[jk]
        end))
    )[0]
{%- endmacro %}

{#
  Jackson's text of a nested object or array as DuckDB writes it: Jackson writes doubles in
  Java's notation (`1.0E-7`) and characters beyond the BMP as `\uD83C\uDF89`; only texts that
  have either are taken apart into string, number and other tokens.
#}
{% macro spark_json_nested_text(text) -%}
    case when {{ text }} rlike '[0-9]E|\\\\u[dD][89abAB]' then array_join(transform(
        regexp_extract_all({{ text }}, '"(?:[^"\\\\]|\\\\.)*"|-?[0-9][0-9.eE+-]*|[^"0-9-]+', 0),
        jt -> case
            when startswith(jt, '"') then case when jt rlike '\\\\u[dD][89abAB]' then to_json(parse_json(jt)) else jt end
            when jt rlike 'E' then {{ spark_json_double_text('jt') }}
            else jt
        end
    ), '') else {{ text }} end
{%- endmacro %}

{#
  A double's text (Java's `1.2345678912345679E8`, `100.0`, or any JSON number) as DuckDB
  writes a double: the shortest digits that read back as the same double, positional from 1e-6
  to below 1e21 (whole numbers with `.0`), otherwise `1.5e300`, `1e-7`. Java's digits are not
  always the shortest (`9.999999999999999E22` for 1e23): texts in E notation or with 16 digits
  or more are rounded to the fewest digits that still read back as the same double.
#}
{% macro spark_json_double_text(text) -%}
    transform(array(case
        when {{ text }} rlike 'E' or length(regexp_replace({{ text }}, '[^0-9]', '')) >= 16 then coalesce(filter(
            transform(sequence(1, 17), jp -> format_string(concat('%.', jp - 1, 'e'), cast({{ text }} as double))),
            jc -> cast(jc as double) = cast({{ text }} as double)
        )[0], {{ text }})
        else {{ text }}
    end), js -> transform(array(named_struct(
        'sign', case when js like '-%' then '-' else '' end,
        'whole', split(regexp_extract(js, '^-?([0-9.]+)', 1), '[.]')[0],
        'all', replace(regexp_extract(js, '^-?([0-9.]+)', 1), '.', ''),
        'exponent', cast(coalesce(nullif(regexp_extract(js, '[eE]([-+]?[0-9]+)$', 1), ''), '0') as int)
    )), jn -> transform(array(named_struct(
        'sign', jn.sign,
        {#- digits without leading or trailing zeros; the value is 0.<digits> x 10^point #}
        'digits', regexp_replace(substr(jn.all, length(regexp_extract(jn.all, '^0*', 0)) + 1), '0+$', ''),
        'point', length(jn.whole) + jn.exponent - length(regexp_extract(jn.all, '^0*', 0))
    )), jd -> jd.sign || case
        when jd.digits = '' then '0.0'
        when jd.point between -5 and 21 then case
            when jd.point <= 0 then '0.' || repeat('0', -jd.point) || jd.digits
            when jd.point >= length(jd.digits) then jd.digits || repeat('0', jd.point - length(jd.digits)) || '.0'
            else substr(jd.digits, 1, jd.point) || '.' || substr(jd.digits, jd.point + 1)
        end
        else substr(jd.digits, 1, 1) || case when length(jd.digits) > 1 then '.' || substr(jd.digits, 2) else '' end
            || 'e' || cast(jd.point - 1 as string)
    end)[0])[0])[0]
{%- endmacro %}
