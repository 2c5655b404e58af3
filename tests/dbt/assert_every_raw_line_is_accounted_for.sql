{#
  Nothing lost, nothing doubled: for every source, each raw line (landed record or bad
  line) ends as exactly one of: an event, a rejected row, or a collapsed duplicate.
  Returns one row per source whose counts do not add up.
  If this fails after a mapping change, run `dbt build --full-refresh` (the events mart
  is incremental and still holds events built under the old rules).
#}

with

raw_lines as (

    select 'mixpanel' as source_system, count(*) as lines from {{ source('mixpanel', 'mixpanel_events') }}
    union all
    select source_system, count(*) from {{ source('landing', 'load_errors') }} group by source_system

),

raw_totals as (

    select source_system, sum(lines) as raw_lines from raw_lines group by source_system

),

outcomes as (

    select source_system, count(*) as events, 0 as rejected, 0 as duplicates
    from {{ ref('events') }} group by source_system
    union all
    select source_system, 0, count(*), 0 from {{ ref('events_rejected') }} group by source_system
    union all
    select source_system, 0, 0, count(*) from {{ ref('events_duplicates') }} group by source_system

),

outcome_totals as (

    select
        source_system,
        sum(events) as events,
        sum(rejected) as rejected,
        sum(duplicates) as duplicates
    from outcomes
    group by source_system

),

final as (

    select
        coalesce(raw_totals.source_system, outcome_totals.source_system) as source_system,
        coalesce(raw_totals.raw_lines, 0) as raw_lines,
        coalesce(outcome_totals.events, 0) as events,
        coalesce(outcome_totals.rejected, 0) as rejected,
        coalesce(outcome_totals.duplicates, 0) as duplicates
    from raw_totals
    full outer join outcome_totals on outcome_totals.source_system = raw_totals.source_system

)

select * from final
where raw_lines <> events + rejected + duplicates
