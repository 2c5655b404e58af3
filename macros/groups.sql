{#
  Groups (companies, teams, accounts): which groups a record names, and the group properties
  it states. Every staging model gives two columns:
  - `groups`: the event's groups as PostHog's `$groups` wants them, a JSON object
    {group type: group key}, one key per type (the first the record names); null when none;
  - `group_links`: every (group type, group key, properties) the record names, in the record's
    order, properties null when it states none: what the `groups` mart is built from.
  Group keys are text as the source wrote them (numbers become their text); blank keys are
  left out. PostHog allows at most 5 group types per project: the `groups` mart's test
  `at_most_five_group_types` fails the build beyond that.
#}

{% macro group_link_type() -%}
    {{ return(adapter.dispatch('group_link_type', 'backfill')()) }}
{%- endmacro %}

{% macro duckdb__group_link_type() -%}
    struct(group_type varchar, group_key varchar, properties json)[]
{%- endmacro %}

{#- Spark: properties are JSON text #}
{% macro spark__group_link_type() -%}
    array<struct<group_type:string,group_key:string,properties:string>>
{%- endmacro %}

{# A record that names no group. #}
{% macro no_group_links() -%}
    {{ return(adapter.dispatch('no_group_links', 'backfill')()) }}
{%- endmacro %}

{% macro duckdb__no_group_links() -%}
    cast([] as {{ group_link_type() }})
{%- endmacro %}

{% macro spark__no_group_links() -%}
    cast(array() as {{ group_link_type() }})
{%- endmacro %}

{# The links of one group type: `keys` SQL is a list of texts (see group_keys), `properties` SQL
   may use `k`, the key. #}
{% macro group_link_list(group_type, keys, properties='null') -%}
    {{ return(adapter.dispatch('group_link_list', 'backfill')(group_type, keys, properties)) }}
{%- endmacro %}

{% macro duckdb__group_link_list(group_type, keys, properties='null') -%}
    list_transform({{ keys }}, lambda k: {'group_type': {{ group_type }}, 'group_key': k, 'properties': {{ properties }}})
{%- endmacro %}

{% macro spark__group_link_list(group_type, keys, properties='null') -%}
    transform({{ keys }}, k -> named_struct('group_type', {{ group_type }}, 'group_key', k, 'properties', cast({{ properties }} as string)))
{%- endmacro %}

{# `links` (a list of group links, or a list of such lists) without links of a blank type or key. #}
{% macro group_links(links) -%}
    {{ return(adapter.dispatch('group_links', 'backfill')(links)) }}
{%- endmacro %}

{% macro duckdb__group_links(links) -%}
    list_filter(flatten([{{ links | join(', ') }}]), lambda link: trim(link.group_type) <> '' and trim(link.group_key) <> '')::{{ group_link_type() }}
{%- endmacro %}

{% macro spark__group_links(links) -%}
    cast(filter(flatten(array({{ links | join(', ') }})), link -> trim(link.group_type) <> '' and trim(link.group_key) <> '') as {{ group_link_type() }})
{%- endmacro %}

{#
  The links a JSON object names by group type, in its order: `groups` maps each type to a key
  or a list of keys (Amplitude's `groups`), `properties` (JSON, may be null) maps each type to
  an object of properties by key (Amplitude's `group_properties`). No links when `groups` is
  not a non-empty object.
#}
{% macro group_links_by_type(groups, properties) -%}
    {{ return(adapter.dispatch('group_links_by_type', 'backfill')(groups, properties)) }}
{%- endmacro %}

{% macro duckdb__group_links_by_type(groups, properties) -%}
    case when starts_with({{ groups }}, '{') and {{ groups }} <> '{}' then (
            select {{ group_links(["flatten(list(" ~ group_link_list('g.key', group_keys('g.value'), "json_extract(" ~ properties ~ ", " ~ json_pointer(['g.key', 'k']) ~ ")") ~ " order by g.id))"]) }}
            from json_each({{ groups }}) as g
        ) else {{ no_group_links() }} end
{%- endmacro %}

{#- Spark: the object's entries in order, each value as JSON text (strings quoted, as
    json_each gives them); the properties under type and key as JSON text. #}
{% macro spark__group_links_by_type(groups, properties) -%}
    case when startswith({{ groups }}, '{') and {{ groups }} <> '{}' then {{ group_links([
        "flatten(transform(" ~ spark_json_entries(groups) ~ ", g -> "
        ~ group_link_list('g.key', group_keys('g.value'), json_get_keys(properties, ['g.key', 'k'])) ~ "))"
    ]) }} else {{ no_group_links() }} end
{%- endmacro %}

{#
  The keys a JSON value names: a string or number is one key, an array its elements (Mixpanel
  group keys and Amplitude `groups` values may be lists); anything else none.
#}
{% macro group_keys(value) -%}
    {{ return(adapter.dispatch('group_keys', 'backfill')(value)) }}
{%- endmacro %}

{% macro duckdb__group_keys(value) -%}
    case json_type({{ value }})
        when 'ARRAY' then list_filter(json_extract_string({{ value }}, '$[*]'), lambda k: k is not null)
        when 'VARCHAR' then [json_extract_string({{ value }}, '$')]
        when 'BIGINT' then [json_extract_string({{ value }}, '$')]
        when 'UBIGINT' then [json_extract_string({{ value }}, '$')]
        when 'DOUBLE' then [json_extract_string({{ value }}, '$')]
        else cast([] as varchar[])
    end
{%- endmacro %}

{#- Spark: `value` is JSON text; its first character tells a list, a string or a number
    (DuckDB's VARCHAR, BIGINT, UBIGINT, DOUBLE) from the rest #}
{% macro spark__group_keys(value) -%}
    case
        when startswith({{ value }}, '[') then filter(zip_with(
            from_json({{ value }}, 'array<string>'), from_json({{ value }}, 'array<variant>'),
            {#- a number element in Java's exponent form written as DuckDB writes it #}
            (k, t) -> case when schema_of_variant(t) <> 'STRING' and k rlike '^-?[0-9]\\.[0-9]+E-?[0-9]+$' then {{ backfill.spark__json_number('k') }} else k end
        ), k -> k is not null)
        when startswith({{ value }}, '"') or {{ value }} rlike '^-?[0-9]' then array({{ value_text(value) }})
        else cast(array() as array<string>)
    end
{%- endmacro %}

{# `$groups` for an event: the first key of each type among `links`, as a JSON object; null when none. #}
{% macro groups_object(links) -%}
    {{ return(adapter.dispatch('groups_object', 'backfill')(links)) }}
{%- endmacro %}

{% macro duckdb__groups_object(links) -%}
    case when len({{ links }}) > 0 then to_json(map_from_entries(list_transform(
        list_filter({{ links }}, lambda link, i: list_position(list_transform({{ links }}, lambda l: l.group_type), link.group_type) = i),
        lambda link: {'k': link.group_type, 'v': link.group_key}
    ))) end
{%- endmacro %}

{#- Spark: lambda indexes are 0-based, array_position 1-based #}
{% macro spark__groups_object(links) -%}
    case when size({{ links }}) > 0 then to_json(map_from_entries(transform(
        filter({{ links }}, (link, i) -> array_position(transform({{ links }}, l -> l.group_type), link.group_type) = i + 1),
        link -> named_struct('k', link.group_type, 'v', link.group_key)
    ))) end
{%- endmacro %}

{# The (property, group type) rows the `group_type_mappings` seed declares for `source_system`. #}
{% macro seeded_group_types(source_system) %}
    {{ return(seed_rows(
        'group_type_mappings', 'trim(property), trim(group_type)',
        "source_system = '" ~ source_system ~ "' and nullif(trim(property), '') is not null and nullif(trim(group_type), '') is not null"
    )) }}
{% endmacro %}

{# The link lists of seeded group types whose values were extracted at `fields[first]`, `fields[first + 1]`, ... #}
{% macro group_types_links(group_types, first, fields='field') %}
    {%- set lists = [] -%}
    {%- for property, group_type in group_types -%}
        {%- do lists.append(group_link_list("'" ~ group_type | replace("'", "''") ~ "'", group_keys(fields ~ '[' ~ (first + loop.index0) ~ ']'))) -%}
    {%- endfor -%}
    {{ return(lists) }}
{% endmacro %}
