{#
  Engine-specific parts of the segment_events mart (models/marts/segment_events.sql).
#}

{# The JSON values of the event's `properties` at each of `names` (the properties the
   segment_fields seed maps), a list to pick from by 1-based position; JSON null as `null`. #}
{% macro segment_context_values(properties, names) %}
    {{ return(adapter.dispatch('segment_context_values', 'backfill')(properties, names)) }}
{% endmacro %}

{% macro duckdb__segment_context_values(properties, names) %}
        {%- if names %}
        json_extract({{ properties }}, [{% for property in names %}{{ json_path(property) }}{% if not loop.last %}, {% endif %}{% endfor %}])
        {%- else %}
        cast([] as json[])
        {%- endif %}
{% endmacro %}

{#- Spark: picked from the object's entries (read once); a null first so that positions count
    from 1 as on DuckDB. Top-level keys only (the seed's properties are). #}
{% macro spark__segment_context_values(properties, names) %}
        transform(array({{ spark_object_entries(properties) }}), v -> array(cast(null as string)
            {%- for property in names %},
            filter(v, e -> e.key = {{ backfill.spark__json_literal(property) }})[0].value
            {%- endfor %}))[0]
{% endmacro %}

{# A page call's properties: its context.page fields (url, path, referrer, title) patched with
   the event's own properties (a key of both keeps the property's value; null values go). #}
{% macro segment_page_properties(event, built_context, plain_properties) %}
    {{ return(adapter.dispatch('segment_page_properties', 'backfill')(event, built_context, plain_properties)) }}
{% endmacro %}

{% macro duckdb__segment_page_properties(event, built_context, plain_properties) %}
        case
            when {{ event }} = '$pageview' and json_type({{ built_context }}, '$.page') = 'OBJECT' then
                json_merge_patch(
                    json_extract({{ built_context }}, '$.page'),
                    {{ plain_properties }}
                )
            else {{ plain_properties }}
        end
{% endmacro %}

{#- Spark: json_merge_patch over the top-level entries, in its order: the page's keys the
    properties do not have, then the properties' non-null entries. (DuckDB's patch also drops
    null values nested inside object-valued properties; Spark keeps those.) #}
{% macro spark__segment_page_properties(event, built_context, plain_properties) %}
        case
            when {{ event }} = '$pageview' and startswith(get_json_object({{ built_context }}, '$.page'), '{') then
                transform(
                    array(named_struct(
                        'page', {{ spark_object_entries("get_json_object(" ~ built_context ~ ", '$.page')") }},
                        'own', {{ spark_object_entries(plain_properties) }}
                    )),
                    x -> '{' || array_join(transform(
                        concat(
                            filter(x.page, e -> not array_contains(transform(x.own, p -> p.key), e.key)),
                            filter(x.own, p -> p.value <> 'null')
                        ),
                        e -> {{ spark_json_quote('e.key') }} || ':' || e.value
                    ), ',') || '}'
                )[0]
            else {{ plain_properties }}
        end
{% endmacro %}
