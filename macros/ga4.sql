{#
  GA4's BigQuery export keeps parameters as a list of {key, value: {string_value, int_value,
  float_value, double_value}} with one value set. This turns such a JSON list into one JSON
  object, each key carrying whichever typed value is set (int_value arrives as a string in
  JSON exports and becomes a number again; NaN and infinities become null, as JSON has no
  such numbers). Entries without a key are dropped; a key given twice keeps its first value.
  Not a list: an empty object.
#}
{% macro ga4_params_to_json(params) %}
    {{ return(adapter.dispatch('ga4_params_to_json', 'backfill')(params)) }}
{% endmacro %}

{% macro duckdb__ga4_params_to_json(params) %}
    case
        when json_type({{ params }}) = 'ARRAY' then list_transform(
            [list_filter(
                list_transform(
                    try_cast(from_json(
                        {{ params }},
                        '[{"key": "VARCHAR", "value": {"string_value": "VARCHAR", "int_value": "VARCHAR", "float_value": "DOUBLE", "double_value": "DOUBLE"}}]'
                    ) as struct(key varchar, value struct(string_value varchar, int_value varchar, float_value double, double_value double))[]),
                    lambda p: {
                        'k': p.key,
                        'v': coalesce(
                            to_json(p.value.string_value),
                            to_json(try_cast(p.value.int_value as hugeint)),
                            to_json(case when not isnan(p.value.double_value) and not isinf(p.value.double_value) then p.value.double_value end),
                            to_json(case when not isnan(p.value.float_value) and not isinf(p.value.float_value) then p.value.float_value end)
                        )
                    }
                ),
                lambda e: e.k is not null
            )],
            lambda entries: to_json(map_from_entries(list_filter(
                entries, lambda e, i: list_position(list_transform(entries, lambda x: x.k), e.k) = i
            )))
        )[1]
        else cast('{}' as json)
    end
{% endmacro %}

{#- Spark: the object is written as text (its values are JSON text already); lambda indexes
    are 0-based, array_position 1-based. A list Spark cannot read as entries gives `{}`, as
    DuckDB's entries of nulls do. #}
{% macro spark__ga4_params_to_json(params) %}
    case
        when {{ backfill.json_type(params) }} = 'ARRAY' then coalesce(transform(
            array(filter(
                transform(
                    from_json(
                        {{ params }},
                        'array<struct<key:string,value:struct<string_value:string,int_value:string,float_value:double,double_value:double>>>'
                    ),
                    p -> named_struct(
                        'k', p.key,
                        'v', coalesce(
                            {{ backfill.json_scalar('p.value.string_value') }},
                            cast(cast(p.value.int_value as decimal(38, 0)) as string),
                            {{ spark_json_double('p.value.double_value') }},
                            {{ spark_json_double('p.value.float_value') }}
                        )
                    )
                ),
                e -> e.k is not null
            )),
            entries -> '{' || array_join(transform(
                filter(entries, (e, i) -> array_position(transform(entries, x -> x.k), e.k) = i + 1),
                e -> {{ backfill.json_scalar('e.k') }} || ':' || coalesce(e.v, 'null')
            ), ',') || '}'
        )[0], '{}')
        else '{}'
    end
{% endmacro %}
