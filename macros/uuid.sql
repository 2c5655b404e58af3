{#
  UUIDv5 (RFC 9562) computed in SQL: SHA-1 over the 16 namespace bytes followed by the
  UTF-8 name, version nibble 5, variant bits 10. `namespace_ascii` is a 16-character ASCII
  string used as the raw namespace bytes, as PostHog's importers do ('posthog_mixpanel').
#}
{% macro uuid_v5(namespace_ascii, name) %}
    {{ return(adapter.dispatch('uuid_v5', 'backfill')(namespace_ascii, name)) }}
{% endmacro %}

{% macro duckdb__uuid_v5(namespace_ascii, name) %}
    {%- if namespace_ascii | length != 16 -%}
        {{ exceptions.raise_compiler_error("uuid_v5 needs a 16-byte namespace, got '" ~ namespace_ascii ~ "'") }}
    {%- endif -%}
    list_transform(
        [sha1('{{ namespace_ascii }}' || {{ name }})],
        lambda h: substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-5' || substr(h, 14, 3) || '-'
            || substr('89ab', (position(substr(h, 17, 1) in '0123456789abcdef') - 1) % 4 + 1, 1)
            || substr(h, 18, 3) || '-' || substr(h, 21, 12)
    )[1]
{% endmacro %}

{#- Spark: the same bytes hashed (namespace, then the name as UTF-8); the variant nibble is
    one of 8, 9, a, b by the hash's 17th hex digit mod 4. #}
{% macro spark__uuid_v5(namespace_ascii, name) %}
    {%- if namespace_ascii | length != 16 -%}
        {{ exceptions.raise_compiler_error("uuid_v5 needs a 16-byte namespace, got '" ~ namespace_ascii ~ "'") }}
    {%- endif -%}
    transform(
        array(sha1(concat(encode('{{ namespace_ascii }}', 'UTF-8'), encode({{ name }}, 'UTF-8')))),
        h -> substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-5' || substr(h, 14, 3) || '-'
            || substr('89ab', cast(conv(substr(h, 17, 1), 16, 10) as int) % 4 + 1, 1)
            || substr(h, 18, 3) || '-' || substr(h, 21, 12)
    )[0]
{% endmacro %}

{# A canonical lower-case uuid, or null when `value` is not one. #}
{% macro as_uuid(value) %}
    {{- adapter.dispatch('as_uuid', 'backfill')(value) -}}
{% endmacro %}
{% macro duckdb__as_uuid(value) %}
    list_transform(
        [lower(trim(cast({{ value }} as varchar)))],
        lambda u: case when regexp_full_match(u, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}') then u end
    )[1]
{% endmacro %}
{% macro spark__as_uuid(value) %}
    transform(
        array(lower(trim(cast({{ value }} as string)))),
        u -> case when {{ backfill.regex_full_match('u', '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}') }} then u end
    )[0]
{% endmacro %}
