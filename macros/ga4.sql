{#
  GA4's BigQuery export keeps parameters as a list of {key, value: {string_value, int_value,
  float_value, double_value}} with one value set. This turns such a JSON list into one JSON
  object, each key carrying whichever typed value is set (int_value arrives as a string in
  JSON exports and becomes a number again; NaN and infinities become null, as JSON has no
  such numbers). Entries without a key are dropped; a key given twice keeps its first value.
  Not a list: an empty object.
#}
{% macro ga4_params_to_json(params) %}
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
