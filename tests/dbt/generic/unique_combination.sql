{% test unique_combination(model, columns, not_null=[]) %}
{#-
  Fails with one row per combination of `columns` that occurs more than once, or that has a
  null in one of `columns` or in one of `not_null` (one test per seed instead of one per rule:
  every test is a node, and every node costs a build time).
-#}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
    {%- for column in columns + not_null %}
    or bool_or({{ column }} is null)
    {%- endfor %}
{% endtest %}
