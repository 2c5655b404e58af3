{% test matches_pattern(model, column_name, pattern) %}
{#- Fails with every non-null value of the column that does not match the regular expression. -#}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not {{ backfill.regex_full_match(column_name, pattern) }}
{% endtest %}
