{#
  TEMPLATE for a source of your own, here an in-house shop's CSV export. A staging model
  turns one raw row into the columns every source provides; validation, mappings,
  deduplication and the marts are shared. Fill in the five parts marked ①-⑤.

  ① source_system: the NAME given to `sync load table NAME` (it is also raw.NAME).
  ② source_event_name and distinct_id: text; blank counts as missing (→ rejected).
     first_text('record', ['a', 'b']) takes the first non-blank of record.a, record.b.
     distinct_id_is_anonymous: true when the id is only a device/anonymous id (Segment
     then gets it as anonymousId instead of userId). distinct_id_fields: where the id is
     read from, in words, for events_rejected's detail ("no customer_id or anonymous_id").
  ③ event_at: a UTC timestamp; pick the macro for your format:
       epoch_to_timestamp(x, 's' | 'ms' | 'us')   epoch numbers
       text_to_timestamp(x)                      ISO 8601; zone-less text read as UTC
       text_to_timestamp(x, 'Europe/Berlin')     zone-less local wall time in a named zone
     Unparsable → null → rejected as invalid_timestamp.
  ④ uuid: your export's own id if it has one (uuid_v5 over it, with a 16-character
     namespace of your own), so copies collapse; otherwise derive it from the content.
  ⑤ source_properties: a JSON object (json_object_of([(key, expr), ...]) or a column that holds one).
  Optional: person_properties (JSON: $set), rejection_reason / exclusion_reason (text), and ⑥
  person_properties_once (JSON: $set_once), source_context (JSON: Segment's `context` when the
  source has one), groups and group_links (see macros/groups.sql).
#}

with

source as (

    select * from {{ raw_table_or_empty(source('shop', 'shop_events')) }}

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ first_text('record', ['event_id']) }} as event_id,
        {{ first_text('record', ['action']) }} as action,
        {{ first_text('record', ['occurred_at']) }} as occurred_at,
        {{ first_text('record', ['customer_id', 'anonymous_id']) }} as distinct_id,      -- blank → next; none → null
        {{ first_text('record', ['customer_id']) }} is null as distinct_id_is_anonymous

    from source

),

final as (

    select
        'shop_events' as source_system,                                         -- ①
        load_id,
        line_number,
        file_path,
        event_id as source_event_id,
        case action when 'page_view' then '$pageview' else action end as source_event_name,  -- ②
        distinct_id,                                                            -- ②
        distinct_id_is_anonymous,                                               -- ② true: not a known user
        'customer_id or anonymous_id' as distinct_id_fields,                    -- ② for the rejects' detail
        {{ identity_links([(raw_id(json_get('record', 'anonymous_id')), raw_id(json_get('record', 'customer_id')), 'identify')]) }} as identity_links,  -- ② ids seen together
        occurred_at as source_time,
        {{ text_to_timestamp('occurred_at', 'Europe/Berlin') }} as event_at,    -- ③ shop clocks are Berlin time
        case
            when event_id is not null then {{ uuid_v5('backfill_shop_ev', 'event_id') }}  -- ④
            else {{ uuid_v5('backfill_content', "'shop_events:' || " ~ canonical_json('record')) }}
        end as uuid,
        {{ json_object_of([
            ('amount', 'try_cast(' ~ json_get_text('record', 'amount') ~ ' as decimal(12, 2))'),
            ('currency', json_get_text('record', 'currency')),
            ('$current_url', json_get_text('record', 'page_url')),
        ]) }} as source_properties,                                             -- ⑤
        {{ as_json('null') }} as person_properties,
        {{ as_json('null') }} as person_properties_once,                           -- ⑥ optional: $set_once person properties
        {{ as_json('null') }} as source_context,                                   -- ⑥ optional: a Segment-style context object
        cast(null as {{ text_type() }}) as country_code,
        {{ as_json('null') }} as groups,                                           -- ⑥ optional: {"group type": "key"} (macros/groups.sql)
        {{ no_group_links() }} as group_links,                                  -- ⑥ optional: groups and their properties
        cast(null as {{ text_type() }}) as rejection_reason,
        cast(null as {{ text_type() }}) as exclusion_reason,
        record as source_record

    from parsed

)

select * from final
