{#
  Nothing lost, nothing doubled, for one source: every raw line it landed (a record in
  `model`, its raw table, or a bad line in raw.load_errors) ends as exactly one of: an
  event, a rejected row, an excluded record, or a collapsed duplicate.
  Returns a row when the counts do not add up.
  If this fails after a mapping change, run `dbt build --full-refresh` (the events mart
  is incremental and still holds events built under the old rules).
#}
{% test reconciles_with_marts(model, source_system) %}

with

raw_lines as (

    select
        (select count(*) from {{ raw_table_or_empty(model) }})
        + (select count(*) from {{ source('landing', 'load_errors') }} where source_system = '{{ source_system }}')
        as raw_lines

),

outcomes as (

    select
        (select count(*) from {{ ref('events') }} where source_system = '{{ source_system }}') as events,
        (select count(*) from {{ ref('events_rejected') }} where source_system = '{{ source_system }}') as rejected,
        (select count(*) from {{ ref('events_excluded') }} where source_system = '{{ source_system }}') as excluded,
        (select count(*) from {{ ref('events_duplicates') }} where source_system = '{{ source_system }}') as duplicates

)

select
    '{{ source_system }}' as source_system,
    raw_lines.raw_lines,
    outcomes.*
from raw_lines, outcomes
where raw_lines.raw_lines <> outcomes.events + outcomes.rejected + outcomes.excluded + outcomes.duplicates

{% endtest %}
