{% test unique_in_build(model, column_name) %}
{#-
  Uniqueness that costs what is new: fails with each value the current build wrote (rows
  whose build_id is the build's, see macros/incremental.sql) that occurs more than once in the
  whole table. Values written by earlier builds were checked then, and no build rewrites them
  without rewriting their build_id.
-#}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ column_name }} in (
    select {{ column_name }} from {{ model }} where build_id = (select build_id from dbt_build)
)
group by {{ column_name }}
having count(*) > 1
{% endtest %}
