{#
  What PostHog's own importer adds to every event it sends (shared/REFERENCE.md), as the fields
  of a JSON object (no braces): `historical_migration: true`, `analytics_source` (the source
  system), `$import_job_id` when one is given, and `$geoip_disable: true` unless the var
  `posthog_geoip_disable` is false. Without `$geoip_disable`, PostHog's GeoIP step geolocates a
  historical event from its `$ip`, or from the address of the machine that sends it, and
  overwrites the source's own geo.
#}
{% macro posthog_markers(source_system, import_job_id=none) -%}
    '"historical_migration":true,"analytics_source":' || {{ backfill.json_scalar(source_system) }}
    {%- if import_job_id is not none %} || coalesce(',"$import_job_id":' || {{ backfill.json_scalar(import_job_id) }}, ''){% endif %}
    {%- if var('posthog_geoip_disable', true) %} || ',"$geoip_disable":true'{% endif %}
{%- endmacro %}
