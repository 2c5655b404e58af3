{#
  PostHog allows at most 5 group types per project: beyond that its ingestion drops the
  extra types. Fails the build (one row per type found) when the groups mart has more; map
  them to at most 5 in seeds/group_type_mappings.csv (Amplitude: filter `groups` in its
  staging model), then `dbt build --full-refresh`.
#}
{{ config(severity='error') }}

with

group_types as (

    select group_type, count(*) as groups from {{ ref('groups') }} group by group_type

)

select
    group_type,
    groups,
    'PostHog allows at most 5 group types per project; this warehouse has '
        || (select count(*) from group_types) || ': ' || (select {{ backfill.sorted_text_agg('group_type', "', '") }} from group_types)
        as problem

from group_types
where (select count(*) from group_types) > 5
