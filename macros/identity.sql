{#
  Identity: which anonymous (device) id and known (user) id a record shows together.
  Ids are kept exactly as the source wrote them (not trimmed: PostHog's importer does not trim
  either); a blank or whitespace-only id counts as missing.
#}

{# The text of JSON value `value` as an id: untouched, or null when blank. #}
{% macro raw_id(value) -%}
    case when trim({{ value_text(value) }}) <> '' then {{ value_text(value) }} end
{%- endmacro %}

{#
  The identity links a record carries: `pairs` is a list of (anonymous id SQL, known id SQL,
  link type), link type 'identify' (both ids on one message) or 'alias' (Segment's alias:
  previousId becomes userId). A pair with a missing id, or the same id twice, is left out.
#}
{% macro identity_links(pairs) -%}
    {{ return(adapter.dispatch('identity_links', 'backfill')(pairs)) }}
{%- endmacro %}
{% macro duckdb__identity_links(pairs) -%}
    list_filter(
        [{% for anonymous, known, kind in pairs %}{'anonymous_id': {{ anonymous }}, 'known_id': {{ known }}, 'link_type': '{{ kind }}'}{% if not loop.last %}, {% endif %}{% endfor %}],
        lambda link: link.anonymous_id is not null and link.known_id is not null and link.anonymous_id <> link.known_id
    )
{%- endmacro %}
{% macro spark__identity_links(pairs) -%}
    filter(
        array({% for anonymous, known, kind in pairs %}named_struct('anonymous_id', {{ anonymous }}, 'known_id', {{ known }}, 'link_type', '{{ kind }}'){% if not loop.last %}, {% endif %}{% endfor %}),
        link -> link.anonymous_id is not null and link.known_id is not null and link.anonymous_id <> link.known_id
    )
{%- endmacro %}

{# No identity links, typed as identity_links() makes them (for a source whose records carry none). #}
{% macro no_identity_links() -%}
    {{ identity_links([('cast(null as ' ~ backfill.text_type() ~ ')', 'cast(null as ' ~ backfill.text_type() ~ ')', 'identify')]) }}
{%- endmacro %}
