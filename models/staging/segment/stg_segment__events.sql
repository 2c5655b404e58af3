{#
  One row per archived Segment message, parsed:
  - `track` → its `event`; `page` → $pageview with $current_url from properties.url;
    `screen` → $screen with $screen_name from `name`
  - `identify` is excluded from events (its traits feed person_properties); `group` and
    `alias` are excluded too; any other type is rejected as unsupported_message_type
  - distinct_id: userId, else anonymousId
  - time: timestamp, else originalTimestamp, else receivedAt (ISO 8601, converted to UTC)
  - uuid: derived from messageId (UUIDv5, namespace 'backfill_segment'), so copies of a
    message collapse; the original messageId, sentAt and projectId are not sent on
  - source_context: the message's own `context`, so a replayed archive goes back to Segment with it
  - groups: a `group` call's groupId (its traits are the group's properties) and any other
    message's context.groupId, under the group type the `group_type_mappings` seed gives
    `groupId` for segment (none: groups are not read)
#}
-- depends_on: {{ ref('group_type_mappings') }}

{#- every field read from the record, with one parse (positions below are 1-based) #}
{%- set fields = [
    'type', 'event', 'messageId', 'name', 'userId', 'anonymousId',
    'timestamp', 'originalTimestamp', 'receivedAt',
    'properties', 'traits', 'context.traits', 'previousId', 'groupId', 'context.groupId', 'context',
    'properties.url'
] %}
{%- set group_type = (backfill.seeded_group_types('segment') | selectattr(0, 'equalto', 'groupId') | map(attribute=1) | list + [none])[0] %}

with

source as (

    select * from {{ source('segment', 'segment_events') }}

),

extracted as (

    select
        load_id,
        line_number,
        file_path,
        record,
        {{ json_values('record', fields) }} as field

    from source

),

texted as (

    select
        *,
        {{ value_texts('field') }} as texts   -- each field's text, read once

    from extracted

),

parsed as (

    select
        load_id,
        line_number,
        file_path,
        record,
        lower({{ first_text_at('texts', [1]) }}) as message_type,
        {{ first_text_at('texts', [2]) }} as track_event,
        {{ first_text_at('texts', [3]) }} as message_id,
        {{ first_text_at('texts', [4]) }} as screen_name,
        texts[17] as page_url,   -- properties.url as text (`->>`)
        {{ first_text_at('texts', [5, 6]) }} as distinct_id,
        {{ first_text_at('texts', [5]) }} is null as distinct_id_is_anonymous,
        {{ first_text_at('texts', [7, 8, 9]) }} as source_time,
        coalesce({% for i in [7, 8, 9] %}{{ text_to_timestamp('texts[' ~ i ~ ']') }}{% if not loop.last %}, {% endif %}{% endfor %}) as event_at,
        {{ object_or('field[10]') }} as properties,
        {{ object_or('field[16]', otherwise='null') }} as source_context,
        {{ object_or('field[11]', otherwise=object_or('field[12]', otherwise='null')) }} as person_properties,
        case when lower({{ first_text_at('texts', [1]) }}) = 'alias'
            then {{ identity_links([(raw_id_at('texts', 13), raw_id_at('texts', 5), 'alias')]) }}   -- previousId becomes userId
            else {{ identity_links([(raw_id_at('texts', 6), raw_id_at('texts', 5), 'identify')]) }}  -- anonymousId with userId
        end as identity_links,
        {%- if group_type is none %}
        {{ no_group_links() }} as group_links
        {%- else %}
        case when lower({{ first_text_at('texts', [1]) }}) = 'group'
            then {{ group_links([group_link_list("'" ~ group_type ~ "'", group_keys('field[14]'), object_or('field[11]', otherwise='null'))]) }}
            else {{ group_links([group_link_list("'" ~ group_type ~ "'", group_keys('field[15]'))]) }}
        end as group_links
        {%- endif %}

    from texted

),
final as (

    select
        'segment' as source_system,
        load_id,
        line_number,
        file_path,
        message_id as source_event_id,
        case message_type
            when 'track' then track_event
            when 'page' then '$pageview'
            when 'screen' then '$screen'
            else message_type
        end as source_event_name,
        distinct_id,
        distinct_id_is_anonymous,
        'userId or anonymousId' as distinct_id_fields,   -- what distinct_id is read from, for the rejects' detail
        identity_links,
        source_time,
        event_at,
        case message_type
            when 'page' then {{ json_add_keys('properties', {'$current_url': add_key_text('page_url')}, json_keys=['$current_url']) }}
            when 'screen' then {{ json_add_keys('properties', {'$screen_name': add_key_text('screen_name')}, json_keys=['$screen_name']) }}
            else properties
        end as source_properties,
        case when message_type in ('group', 'alias') then null else person_properties end as person_properties,   -- group traits describe the group
        {{ as_json('null') }} as person_properties_once,
        source_context,
        cast(null as {{ text_type() }}) as country_code,
        {{ groups_object('group_links') }} as groups,
        group_links,
        case
            when message_id is not null then {{ uuid_v5('backfill_segment', 'message_id') }}
            else {{ uuid_v5('backfill_content', "'segment:' || " ~ canonical_json('record')) }}
        end as uuid,
        case
            when message_type is null or message_type not in ('track', 'page', 'screen', 'identify', 'group', 'alias')
                then 'unsupported_message_type'
        end as rejection_reason,
        case
            when message_type = 'identify' then 'identify_message'
            when message_type in ('group', 'alias') then message_type || '_message'
        end as exclusion_reason,
        record as source_record

    from parsed

)

select * from final
