{#
  Timestamp parsing shared by every staging model. All timestamps inside the warehouse are
  naive TIMESTAMP values in UTC; `to_iso8601_utc` renders the string destinations receive.
#}

{% macro epoch_to_timestamp(value, unit='auto') %}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'backfill')(value, unit)) }}
{% endmacro %}

{#
  `value`: an expression whose text is an epoch number (JSON number or numeric string;
  anything else gives null). `unit`: 's', 'ms', 'us', or 'auto' = seconds, or milliseconds
  when the number is above 10^10 (Mixpanel's and PostHog's importer rule).
  Sub-second precision is kept down to the microsecond.
#}
{% macro duckdb__epoch_to_timestamp(value, unit='auto') %}
    {#- A double holds every microsecond exactly up to year 2255 in seconds (and ms, us) #}
    {%- set micros_per = {'s': '1000000', 'ms': '1000', 'us': '1'} -%}
    list_transform(
        [try_cast(cast({{ value }} as varchar) as double)],
        lambda t: case
            when t is null or isnan(t) or t <= 0 or t >= 1e17 then null
            {%- if unit == 'auto' %}
            when t >= 1e14 then null
            when t > 1e10 then make_timestamp(try_cast(round(t * 1000) as bigint))
            else make_timestamp(try_cast(round(t * 1000000) as bigint))
            {%- else %}
            else make_timestamp(try_cast(round(t * {{ micros_per[unit] }}) as bigint))
            {%- endif %}
        end
    )[1]
{% endmacro %}

{#- Spark: the same rules; `transform(array(x), t -> ...)[0]` evaluates `x` once, as DuckDB's
    list_transform idiom does. timestamp_micros gives a TIMESTAMP in the session zone (UTC). #}
{% macro spark__epoch_to_timestamp(value, unit='auto') %}
    {%- set micros_per = {'s': '1000000', 'ms': '1000', 'us': '1'} -%}
    transform(
        array(try_cast(cast({{ value }} as string) as double)),
        t -> case
            when t is null or isnan(t) or t <= 0 or t >= 1e17 then null
            {%- if unit == 'auto' %}
            when t >= 1e14 then null
            when t > 1e10 then timestamp_micros(cast(round(t * 1000) as bigint))
            else timestamp_micros(cast(round(t * 1000000) as bigint))
            {%- else %}
            else timestamp_micros(cast(round(t * {{ micros_per[unit] }}) as bigint))
            {%- endif %}
        end
    )[0]
{% endmacro %}

{#
  Reinterpret a naive timestamp that holds wall-clock time in `tz` (an IANA name) as UTC.
#}
{% macro wall_time_to_utc(ts, tz) %}
    {%- if tz | upper in ('UTC', 'ETC/UTC', 'Z', '') -%}
        {{ ts }}
    {%- else -%}
        {{ adapter.dispatch('wall_time_to_utc', 'backfill')(ts, tz) }}
    {%- endif -%}
{% endmacro %}
{% macro duckdb__wall_time_to_utc(ts, tz) -%}
    timezone('UTC', timezone('{{ tz }}', {{ ts }}))
{%- endmacro %}
{#- Spark: a wall time that occurs twice (the hour the clocks go back) is read as the later
    one, as DuckDB reads it (Spark's to_utc_timestamp takes the earlier). #}
{% macro spark__wall_time_to_utc(ts, tz) -%}
    transform(array(named_struct('t', {{ ts }}, 'u', to_utc_timestamp({{ ts }}, '{{ tz }}'))), x -> case
        when from_utc_timestamp(x.u + interval 1 hour, '{{ tz }}') = x.t then x.u + interval 1 hour
        else x.u
    end)[0]
{%- endmacro %}

{# `ts` as ISO 8601 text in UTC with microseconds: 2020-10-13T17:48:31.000000Z #}
{% macro to_iso8601_utc(ts) %}
    {{- adapter.dispatch('to_iso8601_utc', 'backfill')(ts) -}}
{% endmacro %}
{% macro duckdb__to_iso8601_utc(ts) %}
    strftime({{ ts }}, '%Y-%m-%dT%H:%M:%S.%fZ')
{% endmacro %}
{#- Spark: formatted in the session time zone, which the spark target sets to UTC. #}
{% macro spark__to_iso8601_utc(ts) %}
    date_format({{ ts }}, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
{% endmacro %}


{#
  An event's time as the events mart keeps and sends it, by the var `timestamp_precision`:
  `microsecond` (the default) keeps what the source had; `second` cuts it to whole seconds and
  writes it as PostHog's Mixpanel importer does (`2020-10-13T17:48:31+00:00`), so that events a
  PostHog managed migration also imported carry the same uuid, event, distinct_id and timestamp
  and PostHog can merge them.
#}
{% macro event_time(ts) -%}
    {%- if var('timestamp_precision', 'microsecond') == 'second' -%} date_trunc('second', {{ ts }})
    {%- elif var('timestamp_precision', 'microsecond') == 'microsecond' -%} {{ ts }}
    {%- else -%} {{ exceptions.raise_compiler_error("timestamp_precision must be 'microsecond' or 'second', got '" ~ var('timestamp_precision') ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro event_timestamp(ts) -%}
    {%- if var('timestamp_precision', 'microsecond') == 'second' -%} {{ adapter.dispatch('iso8601_seconds_utc', 'backfill')(event_time(ts)) }}
    {%- else -%} {{ to_iso8601_utc(event_time(ts)) }}
    {%- endif -%}
{%- endmacro %}

{# `ts` as PostHog's importer writes times: 2020-10-13T17:48:31+00:00 #}
{% macro duckdb__iso8601_seconds_utc(ts) -%}
    strftime({{ ts }}, '%Y-%m-%dT%H:%M:%S+00:00')
{%- endmacro %}
{% macro spark__iso8601_seconds_utc(ts) -%}
    date_format({{ ts }}, "yyyy-MM-dd'T'HH:mm:ss'+00:00'")
{%- endmacro %}

{% macro is_plausible_event_time(ts) %}
    ({{ ts }} >= cast('{{ var("earliest_valid_timestamp") }}' as timestamp)
     and {{ ts }} < cast('{{ var("latest_valid_timestamp") }}' as timestamp))
{% endmacro %}

{#
  `value`: an expression whose text is a date-time. With a zone (`Z`, `+02:00`, `-0500`,
  ` +05:30`, or a name such as `UTC`, `PST`, `America/New_York`) it is converted to UTC; a
  zone that cannot be read gives null rather than a wrong time. Without a zone it is read as
  wall time in `tz` (default UTC, as Amplitude's and GA4's zone-less times are).
  Unparsable or blank text gives null. Precision is kept down to the microsecond.
#}
{% macro text_to_timestamp(value, tz='UTC') %}
    {{- adapter.dispatch('text_to_timestamp', 'backfill')(value, tz) -}}
{% endmacro %}

{% macro duckdb__text_to_timestamp(value, tz='UTC') %}
    list_transform(
        [regexp_replace(nullif(trim(cast({{ value }} as varchar)), ''), '\s+([+-]\d{2}(:?\d{2})?)$', '\1')],
        lambda s: case
            when s is null then null
            when regexp_matches(s, '[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}(:?\d{2})?|\s+[A-Za-z][A-Za-z0-9_/+-]*)$')
                then timezone('UTC', try_cast(s as timestamptz))
            else {{ wall_time_to_utc('try_cast(s as timestamp)', tz) }}
        end
    )[1]
{% endmacro %}

{#- Spark: the same rules. Spark's cast reads more than DuckDB's (a bare year, a time without a
    date, an epoch number): text must start with a date. A cast without a zone reads wall time
    in the session zone (UTC). #}
{% macro spark__text_to_timestamp(value, tz='UTC') %}
    transform(
        array(regexp_replace(nullif(trim(cast({{ value }} as string)), ''), '\\s+([+-]\\d{2}(:?\\d{2})?)$', '$1')),
        s -> case
            when s is null or not s rlike '^\\d{4}-\\d{1,2}-\\d{1,2}([T ]|$)' then null
            when s rlike '[T ]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([zZ]|[+-]\\d{2}(:?\\d{2})?|\\s+[A-Za-z][A-Za-z0-9_/+-]*)$'
                then try_cast(s as timestamp)
            else {{ wall_time_to_utc('try_cast(s as timestamp)', tz) }}
        end
    )[0]
{% endmacro %}

{# The first of the `values` list's elements at `positions` whose text parses as a date-time (see text_to_timestamp). #}
{% macro first_timestamp_of(values, positions, tz='UTC') -%}
    coalesce({% for i in positions %}{{ text_to_timestamp(value_text(values ~ '[' ~ i ~ ']'), tz) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
