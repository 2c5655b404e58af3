{#
  The audit answer, per source, per UTC day of the event, per destination: what was exported,
  what became an event, and what reached the destination.
  - raw_records: raw lines landed (records plus malformed lines); malformed lines and
    records without a usable time have no day: they are counted under event_date = null
  - rejected (and rejected_by_reason as JSON), excluded, duplicates, events: what dbt made of them
  - delivered, failed (refused and not delivered since), pending: per destination
  - reconciles: raw_records = events + rejected + excluded + duplicates
  A view over the marts and the ledger: it is current after every push without a rebuild.
  Destinations are those that have a ledger watermark (none yet: destination is null).
#}

with

verdicts as (

    select
        source_system,
        cast(event_at as date) as event_date,
        case
            when exclusion_reason is not null then 'excluded'
            when rejection_reason is not null then 'rejected'
            else 'valid'
        end as verdict,
        rejection_reason

    from {{ ref('int_events__validated') }}

    union all

    select source_system, cast(null as date), 'rejected', 'malformed_line'
    from {{ ref('stg_landing__bad_lines') }}

),

duplicates_per_day as (

    select source_system, cast(event_at as date) as event_date, count(*) as duplicates
    from {{ ref('events_duplicates') }}
    group by all

),

per_day as (

    select
        verdicts.source_system,
        verdicts.event_date,
        count(*) as raw_records,
        count(*) filter (where verdict = 'rejected') as rejected,
        count(*) filter (where verdict = 'excluded') as excluded,
        any_value(coalesce(duplicates_per_day.duplicates, 0)) as duplicates

    from verdicts
    left join duplicates_per_day
        on duplicates_per_day.source_system = verdicts.source_system
        and duplicates_per_day.event_date is not distinct from verdicts.event_date
    group by all

),

rejected_reasons as (

    select source_system, event_date, to_json(map_from_entries(list({'k': rejection_reason, 'v': n} order by rejection_reason))) as rejected_by_reason
    from (
        select source_system, event_date, rejection_reason, count(*) as n
        from verdicts
        where verdict = 'rejected'
        group by all
    )
    group by all

),

events as (

    select source_system, cast(event_at as date) as event_date, uuid
    from {{ ref('events') }}

),

event_counts as (

    select source_system, event_date, count(*) as events
    from events
    group by all

),

destinations as (

    select destination from {{ ref('stg_ledger__watermarks') }}
    where destination not like '%:%'   -- event streams only (not :persons, :identities)

),

delivered as (

    select events.source_system, events.event_date, deliveries.destination, count(distinct deliveries.uuid) as delivered
    from events
    inner join {{ ref('stg_ledger__deliveries') }} as deliveries
        on deliveries.uuid = events.uuid
    group by all

),

failed as (

    select events.source_system, events.event_date, failures.destination, count(distinct failures.uuid) as failed
    from events
    inner join {{ ref('stg_ledger__undelivered_failures') }} as failures
        on failures.uuid = events.uuid
    group by all

),

days as (

    select source_system, event_date from per_day
    union
    select source_system, event_date from event_counts   -- a mart day with no raw records shows too

),

grid as (

    select
        days.source_system,
        days.event_date,
        coalesce(per_day.raw_records, 0) as raw_records,
        coalesce(per_day.rejected, 0) as rejected,
        coalesce(per_day.excluded, 0) as excluded,
        coalesce(per_day.duplicates, 0) as duplicates,
        destinations.destination
    from days
    left join per_day
        on per_day.source_system = days.source_system
        and per_day.event_date is not distinct from days.event_date
    left join destinations on true

),

final as (

    select
        grid.source_system,
        grid.event_date,
        grid.destination,
        grid.raw_records,
        coalesce(event_counts.events, 0) as events,
        grid.rejected,
        coalesce(rejected_reasons.rejected_by_reason, cast('{}' as json)) as rejected_by_reason,
        grid.excluded,
        grid.duplicates,
        coalesce(delivered.delivered, 0) as delivered,
        coalesce(failed.failed, 0) as failed,
        case when grid.destination is not null
            then coalesce(event_counts.events, 0) - coalesce(delivered.delivered, 0) - coalesce(failed.failed, 0)
        end as pending,
        grid.raw_records = coalesce(event_counts.events, 0) + grid.rejected + grid.excluded + grid.duplicates as reconciles

    from grid
    left join event_counts
        on event_counts.source_system = grid.source_system
        and event_counts.event_date is not distinct from grid.event_date
    left join rejected_reasons
        on rejected_reasons.source_system = grid.source_system
        and rejected_reasons.event_date is not distinct from grid.event_date
    left join delivered
        on delivered.source_system = grid.source_system
        and delivered.event_date is not distinct from grid.event_date
        and delivered.destination = grid.destination
    left join failed
        on failed.source_system = grid.source_system
        and failed.event_date is not distinct from grid.event_date
        and failed.destination = grid.destination

)

select * from final
