{% test one_of(model, column_name, values) %}
{#- Fails with every row whose value is null or not one of `values` (not_null and accepted_values in one node). -#}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
    or {{ column_name }} not in ({% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
{% endtest %}
