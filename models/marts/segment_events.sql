{#
  The events as Segment's spec wants them (shared/REFERENCE.md: Segment spec fields): what
  `sync push -d segment` reads. A view over `events`: nothing is stored twice.
  - context: the event's properties that the `segment_fields` seed maps to a context field
    (`$ip` → context.ip, `$geoip_city_name` → context.location.city, `$current_url` →
    context.page.url, `$os` → context.os.name, ...); an archived Segment message keeps its own
    original context instead;
  - message_type: `page` for $pageview, `screen` for $screen (its name from $screen_name),
    `track` for every other event;
  - properties: the event's properties without the `$`-keys (PostHog's and the sources' own
    reserved names, whether mapped to context or not); a page call's also carry `url`, `path`,
    `referrer` and `title` from context.page, as Segment's page spec has them.
  Edit the seed to send more, or fewer, fields to context.
#}

{#- Spark: a table, since sync reads the marts' Parquet files with DuckDB (views have none). #}
{{ config(materialized=('table' if target.type == 'spark' else 'view')) }}

-- depends_on: {{ ref('segment_fields') }}
{%- set mapped = seed_rows('segment_fields', 'trim(property), trim(segment_field)', "trim(segment_field) like 'context.%'") %}
{%- set page_fields = ['url', 'path', 'referrer', 'title'] %}

with

events as (

    select * from {{ ref('events') }}

),

mapped_values as (

    select
        *,
        {{- backfill.segment_context_values('properties', mapped | map(attribute=0) | list) }} as context_values

    from events

),

shaped as (

    select
        *,
        {{ segment_context(mapped, 'context_values') }} as built_context,
        {{ without_dollar_keys('properties') }} as plain_properties

    from mapped_values

),

final as (

    select
        uuid,
        event,
        case event when '$pageview' then 'page' when '$screen' then 'screen' else 'track' end as message_type,
        case when event = '$screen' then {{ backfill.json_get_text('properties', '$screen_name') }} end as screen_name,
        distinct_id,
        distinct_id_is_anonymous,
        timestamp,
        event_at,
        source_system,
        load_id,
        build_id,
        cast(coalesce(source_context, built_context, '{}') as {{ backfill.json_type_name() }}) as context,
        {{- backfill.segment_page_properties('event', 'built_context', 'plain_properties') }} as properties

    from shaped

)

select * from final
