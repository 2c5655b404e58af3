{#
  One row per destination stream (`posthog`, `posthog:persons`, `posthog:identities`,
  `posthog:groups`, and Segment's): the rows of its mart that are sent, and how many the
  destination delivered, refused (and not delivered since) and has yet to receive. What
  `sync status` says per stream, in SQL. Events held back as too recent count as pending here,
  as in sync_reconciliation. Streams appear once they have been pushed (a ledger watermark).
#}

with

streams as (

    select
        destination,
        coalesce(nullif(split_part(destination, ':', 2), ''), 'events') as stream
    from {{ ref('stg_ledger__watermarks') }}

),

sent_rows as (

    select 'events' as stream, uuid from {{ ref('events') }}
    union all
    select 'persons', uuid from {{ ref('persons') }} where has_properties
    union all
    select 'identities', uuid from {{ ref('identity_links') }}
    union all
    select 'groups', uuid from {{ ref('groups') }}

),

per_row as (

    select
        streams.destination,
        streams.stream,
        sent_rows.uuid,
        deliveries.uuid is not null as is_delivered,
        deliveries.uuid is null and failures.uuid is not null as is_failed

    from streams
    inner join sent_rows
        on sent_rows.stream = streams.stream
    left join (select distinct destination, uuid from {{ ref('stg_ledger__deliveries') }}) as deliveries
        on deliveries.destination = streams.destination
        and deliveries.uuid = sent_rows.uuid
    left join (select distinct destination, uuid from {{ ref('stg_ledger__undelivered_failures') }}) as failures
        on failures.destination = streams.destination
        and failures.uuid = sent_rows.uuid

),

final as (

    select
        destination,
        stream,
        count(*) as mart_rows,
        count(*) filter (where is_delivered) as delivered,
        count(*) filter (where is_failed) as failed,
        count(*) filter (where not is_delivered and not is_failed) as pending

    from per_row
    group by destination, stream

)

select * from final
