{#
  GA4's BigQuery export keeps parameters as a list of {key, value: {string_value, int_value,
  float_value, double_value}} with one value set. This turns such a JSON list into one JSON
  object, each key carrying whichever typed value is set (int_value arrives as a string in
  JSON exports and becomes a number again). Not a list: an empty object.
#}
{% macro ga4_params_to_json(params) %}
    case
        when json_type({{ params }}) = 'ARRAY' then to_json(map_from_entries(list_transform(
            from_json(
                {{ params }},
                '[{"key": "VARCHAR", "value": {"string_value": "VARCHAR", "int_value": "VARCHAR", "float_value": "DOUBLE", "double_value": "DOUBLE"}}]'
            ),
            lambda p: {
                'k': p.key,
                'v': coalesce(
                    to_json(p.value.string_value),
                    to_json(try_cast(p.value.int_value as hugeint)),
                    to_json(p.value.double_value),
                    to_json(p.value.float_value)
                )
            }
        )))
        else cast('{}' as json)
    end
{% endmacro %}
