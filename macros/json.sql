{#
  Reading untrusted JSON records. On DuckDB JSON values are the `json` type; on Spark they are
  `string` holding JSON text (never `variant`: it re-sorts object keys, and uuids hash the text).
  Every engine-specific form is dispatched (`duckdb__`, `spark__`).
#}

{# Text with surrounding whitespace removed; null when nothing is left. #}
{% macro nonblank(expr) %}
    nullif(trim(cast({{ expr }} as {{ backfill.text_type() }})), '')
{% endmacro %}

{# The SQL name of the text type: `varchar` on DuckDB, `string` on Spark. #}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'backfill')()) }}
{%- endmacro %}
{% macro default__text_type() -%}varchar{%- endmacro %}
{% macro spark__text_type() -%}string{%- endmacro %}

{# The SQL name of the JSON type: `json` on DuckDB, `string` on Spark. #}
{% macro json_type_name() -%}
    {{ return(adapter.dispatch('json_type_name', 'backfill')()) }}
{%- endmacro %}
{% macro default__json_type_name() -%}json{%- endmacro %}
{% macro spark__json_type_name() -%}string{%- endmacro %}

{# `expr` as JSON: DuckDB's `cast(x as json)`; on Spark a cast to string (JSON text). #}
{% macro as_json(expr) -%}
    cast({{ expr }} as {{ backfill.json_type_name() }})
{%- endmacro %}

{# `expr` (text) fully matches the regular expression `pattern` (a literal, RE2 syntax kept
   portable: no look-arounds, no back-references). #}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'backfill')(expr, pattern)) }}
{%- endmacro %}
{% macro duckdb__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}
{#- Spark: backslashes doubled (string literals unescape them); `\z` so that a trailing
    newline does not match as Java's `$` would let it. #}
{% macro spark__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ pattern | replace("\\", "\\\\") }})\\z')
{%- endmacro %}

{# `expr` (text) starts with `prefix` (text). #}
{% macro text_starts_with(expr, prefix) -%}
    {{ return(adapter.dispatch('text_starts_with', 'backfill')(expr, prefix)) }}
{%- endmacro %}
{% macro duckdb__text_starts_with(expr, prefix) -%}starts_with({{ expr }}, {{ prefix }}){%- endmacro %}
{% macro spark__text_starts_with(expr, prefix) -%}startswith({{ expr }}, {{ prefix }}){%- endmacro %}

{#
  The path to a key, dotted ('properties.$insert_id'); every part is quoted, so keys starting
  with `$` work as they are. DuckDB: '$."a"."b"'; Spark: "$['a']['b']" (a key holding `'`
  cannot be written there).
#}
{% macro json_path(path) -%}
    {{ return(adapter.dispatch('json_path', 'backfill')(path)) }}
{%- endmacro %}
{% macro duckdb__json_path(path) -%}
    '$.{% for part in path.split('.') %}"{{ part }}"{% if not loop.last %}.{% endif %}{% endfor %}'
{%- endmacro %}
{% macro spark__json_path(path, prefix='$') -%}
    {%- for part in path.split('.') if "'" in part -%}
        {{ exceptions.raise_compiler_error("json_path: key '" ~ part ~ "' cannot be a Spark JSON path") }}
    {%- endfor -%}
    "{{ prefix }}{% for part in path.split('.') %}['{{ part | replace('\\', '\\\\') | replace('"', '\\"') }}']{% endfor %}"
{%- endmacro %}

{#-
  Spark: `get_json_object` returns a string value unquoted at the top level, but inside a
  wildcard match it keeps it as JSON ("x"). Reading `[record]` with `$[*]['k']` therefore gives
  the value's JSON text as DuckDB's json_extract does (strings quoted, objects and arrays compact
  with their key order), except that doubles are in Java's form (spark__json_numbers) and a
  JSON null reads as SQL null (json_values tells it from a missing key).
-#}
{% macro spark__json_wrapped_get(wrapped, path) -%}
    get_json_object({{ wrapped }}, {{ backfill.spark__json_path(path, prefix='$[*]') }})
{%- endmacro %}

{#-
  Spark writes a JSON double as Java does (1.60261160025E9, 1.0E-4); DuckDB as JavaScript does
  (1602611600.25, 0.0001, 1e21). spark__json_number: one number token in Java's exponent form,
  written DuckDB's way (through an exact decimal). spark__json_numbers: every such number in
  `text` (compact JSON), strings left alone (the text is split into strings, numbers and the
  rest); cheap when there is none.
-#}
{% macro spark__json_number(t) -%}
    case
        when {{ t }} rlike 'E([7-9]|1[0-9]|20)$' then regexp_replace(regexp_replace(cast(cast({{ t }} as decimal(38, 17)) as string), '0+$', ''), '\\.$', '.0')
        when {{ t }} rlike 'E-[4-6]$' then regexp_replace(cast(cast({{ t }} as decimal(38, 30)) as string), '0+$', '')
        else replace(replace({{ t }}, '.0E', 'E'), 'E', 'e')
    end
{%- endmacro %}
{% macro spark__json_numbers(text) -%}
    transform(array({{ text }}), s -> case when s rlike '[0-9]E' then array_join(transform(
        regexp_extract_all(s, '("(?:[^"\\\\]|\\\\.)*"|-?[0-9]+(?:\\.[0-9]+)?(?:E-?[0-9]+)?|[^"0-9-]+)', 1),
        t -> case when t rlike '^-?[0-9]\\.[0-9]+E-?[0-9]+$' then {{ backfill.spark__json_number('t') }} else t end), '') else s end)[0]
{%- endmacro %}

{#
  The JSON values at each of `paths` (objects, arrays, text as JSON; missing as null), read
  with one parse of `record`: a list to pick from with value_text, first_of and object_or.
  Positions in it are 1-based on every engine: `field[1]` is the first path (on Spark the list
  starts with a null at [0]).
#}
{% macro json_values(record, paths) -%}
    {{ return(adapter.dispatch('json_values', 'backfill')(record, paths)) }}
{%- endmacro %}
{% macro duckdb__json_values(record, paths) -%}
    json_extract({{ record }}, [{% for path in paths %}{{ json_path(path) }}{% if not loop.last %}, {% endif %}{% endfor %}])
{%- endmacro %}
{#- Spark: one get_json_object per path (Spark has no multi-path extract); the record is
    wrapped once. get_json_object reads a JSON null as missing: where a value is missing, the
    key list of its parent object (one json_object_keys per parent, read once) tells a JSON
    null (`null`, as DuckDB gives it) from a missing key (null). Numbers stay in Java's form
    here: value_text and object_or rewrite them. #}
{% macro spark__json_values(record, paths) -%}
    {%- set parents = [] -%}
    {%- for path in paths %}{% set parent = path.rsplit('.', 1)[0] if '.' in path else '' %}{% if parent not in parents %}{% do parents.append(parent) %}{% endif %}{% endfor -%}
    transform(array(named_struct('w', concat('[', {{ record }}, ']'), 'r', {{ record }})), x -> transform(array(array(
        {%- for parent in parents %}json_object_keys({% if parent == '' %}x.r{% else %}{{ backfill.spark__json_wrapped_get('x.w', parent) }}{% endif %}){% if not loop.last %}, {% endif %}{% endfor -%}
    )), keys -> array(cast(null as string)
        {%- for path in paths %}{% set parent = path.rsplit('.', 1)[0] if '.' in path else '' %},
        coalesce({{ backfill.spark__json_wrapped_get('x.w', path) }}, case when array_contains(keys[{{ parents.index(parent) }}], {{ backfill.spark__json_literal(path.split('.')[-1]) }}) then 'null' end)
        {%- endfor %}))[0])[0]
{%- endmacro %}

{# The JSON value at dotted `path` of JSON `value` (DuckDB's `json_extract(value, path)`). #}
{% macro json_get(value, path) -%}
    {{ return(adapter.dispatch('json_get', 'backfill')(value, path)) }}
{%- endmacro %}
{% macro duckdb__json_get(value, path) -%}
    json_extract({{ value }}, {{ json_path(path) }})
{%- endmacro %}
{% macro spark__json_get(value, path) -%}
    {{ backfill.spark__json_wrapped_get("concat('[', " ~ value ~ ", ']')", path) }}
{%- endmacro %}

{# The text at dotted `path` of JSON `value` (DuckDB's `value->>path`: strings unquoted,
   numbers, objects and arrays as JSON text, JSON null as null). #}
{% macro json_get_text(value, path) -%}
    {{ return(adapter.dispatch('json_get_text', 'backfill')(value, path)) }}
{%- endmacro %}
{% macro duckdb__json_get_text(value, path) -%}
    {{ value }}->>{{ json_path(path) }}
{%- endmacro %}
{% macro spark__json_get_text(value, path) -%}
    {{ backfill.spark__value_text(backfill.spark__json_get(value, path)) }}
{%- endmacro %}

{# The text of a JSON value (a string unquoted, a number or object as its JSON text; JSON null as null). #}
{% macro value_text(value) -%}
    {{ return(adapter.dispatch('value_text', 'backfill')(value)) }}
{%- endmacro %}
{% macro duckdb__value_text(value) -%}
    json_extract_string({{ value }}, '$')
{%- endmacro %}
{#- Spark: `value` is compact JSON text as json_values gives it (numbers possibly in Java's
    form: a number alone is rewritten; an object or array is returned as it is; JSON null is
    null). #}
{% macro spark__value_text(value) -%}
    transform(array({{ value }}), v -> case
        when v rlike '^-?[0-9]\\.[0-9]+E-?[0-9]+$' then {{ backfill.spark__json_number('v') }}
        when startswith(v, '{') or startswith(v, '[') then v
        when v = 'null' then null
        else get_json_object(v, '$')
    end)[0]
{%- endmacro %}

{# The first non-blank text among the `values` list's elements at `positions` (1-based), else null. #}
{% macro first_of(values, positions) -%}
    coalesce({% for i in positions %}{{ nonblank(value_text(values ~ '[' ~ i ~ ']')) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{# `value` (JSON) when it is an object, else `otherwise` (default: an empty object). An
   extracted JSON value is an object exactly when its text starts with a brace. #}
{% macro object_or(value, otherwise=none) -%}
    {%- if otherwise is none %}{% set otherwise = backfill.as_json("'{}'") %}{% endif -%}
    {{ return(adapter.dispatch('object_or', 'backfill')(value, otherwise)) }}
{%- endmacro %}
{% macro default__object_or(value, otherwise) -%}
    case when {{ backfill.text_starts_with(value, "'{'") }} then {{ value }} else {{ otherwise }} end
{%- endmacro %}
{#- Spark: the object's numbers written as DuckDB writes them. #}
{% macro spark__object_or(value, otherwise) -%}
    case when startswith({{ value }}, '{') then {{ backfill.spark__json_numbers(value) }} else {{ otherwise }} end
{%- endmacro %}

{# The first of `paths` whose value is non-blank text (numbers become text), else null. #}
{% macro first_text(record, paths) -%}
    coalesce({% for path in paths %}{{ nonblank(backfill.json_get_text(record, path)) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#
  `record`'s JSON as compact text, so a content-derived uuid does not depend on the spacing
  of the export (the same record from a pretty-printed array and from JSON lines agree).
  Key order is kept: records are hashed as the source wrote them.
#}
{% macro canonical_json(record) -%}
    {{ return(adapter.dispatch('canonical_json', 'backfill')(record)) }}
{%- endmacro %}
{% macro duckdb__canonical_json(record) -%}
    cast(json({{ record }}) as varchar)
{%- endmacro %}
{#- Spark: get_json_object re-writes the whole document compactly, keys in order, numbers
    normalised as DuckDB does. #}
{% macro spark__canonical_json(record) -%}
    {{ backfill.spark__json_numbers("get_json_object(" ~ record ~ ", '$')") }}
{%- endmacro %}

{# The JSON text of an SQL value (DuckDB's `to_json(x)`): text quoted, numbers and booleans as
   they are; null stays null. On Spark, a JSON-typed value is text too: pass it as it is instead. #}
{% macro json_scalar(expr) -%}
    {{ return(adapter.dispatch('json_scalar', 'backfill')(expr)) }}
{%- endmacro %}
{% macro duckdb__json_scalar(expr) -%}
    to_json({{ expr }})
{%- endmacro %}
{#- Spark's to_json takes no bare scalar: wrap it as {"v": x} and cut the value out; a null
    field is left out ({}), which gives null. #}
{% macro spark__json_scalar(expr) -%}
    {%- set wrapped = backfill.spark_to_json(expr) -%}
    transform(array({{ wrapped }}), v -> case when v rlike '^-?[0-9]\\.[0-9]+E-?[0-9]+$' then {{ backfill.spark__json_number('v') }} else v end)[0]
{%- endmacro %}

{#- Spark: the JSON text of an SQL value as Spark writes it (numbers as Java prints them). #}
{% macro spark_to_json(expr) -%}
    nullif(regexp_extract(to_json(named_struct('v', {{ expr }})), '^\\{"v":(.*)\\}$', 1), '')
{%- endmacro %}

{# The type of a JSON value (or of the value at dotted `path` in it), by DuckDB's json_type
   names: OBJECT, ARRAY, VARCHAR, BOOLEAN, NULL, BIGINT, UBIGINT, DOUBLE; null when missing. #}
{% macro json_type(value, path=none) -%}
    {{ return(adapter.dispatch('json_type', 'backfill')(value, path)) }}
{%- endmacro %}
{% macro duckdb__json_type(value, path=none) -%}
    json_type({{ value }}{% if path is not none %}, {{ json_path(path) }}{% endif %})
{%- endmacro %}
{#- Spark: from the JSON text's first character (the value is valid JSON). #}
{% macro spark__json_type(value, path=none) -%}
    {%- set v = value if path is none else backfill.spark__json_get(value, path) -%}
    transform(array(ltrim({{ v }})), t -> case
        when t is null then null
        when startswith(t, '{') then 'OBJECT'
        when startswith(t, '[') then 'ARRAY'
        when startswith(t, '"') then 'VARCHAR'
        when t in ('true', 'false') then 'BOOLEAN'
        when t = 'null' then 'NULL'
        when t rlike '^-[0-9]+$' then case when try_cast(t as decimal(38, 0)) >= -9223372036854775808 then 'BIGINT' else 'DOUBLE' end
        when t rlike '^[0-9]+$' then case when try_cast(t as decimal(38, 0)) <= 18446744073709551615 then 'UBIGINT' else 'DOUBLE' end
        else 'DOUBLE'
    end)[0]
{%- endmacro %}

{#
  `object` (a JSON object) with extra keys; `keys` maps each new key to an SQL expression.
  A null value adds nothing and removes nothing (unlike json_merge_patch, where null deletes).
  A key the object has already moves to the end with its new value (as json_merge_patch does).
  `json_keys`: the keys whose expression is already JSON (on DuckDB to_json leaves JSON as it
  is; on Spark JSON is text, so it must be said).
#}
{% macro json_add_keys(object, keys, json_keys=[]) -%}
    {{ return(adapter.dispatch('json_add_keys', 'backfill')(object, keys, json_keys)) }}
{%- endmacro %}
{% macro duckdb__json_add_keys(object, keys, json_keys=[]) -%}
    json_merge_patch({{ object }}, to_json(map_from_entries(list_filter([
        {%- for key, expr in keys.items() %}{'k': '{{ key }}', 'v': to_json({{ expr }})}{% if not loop.last %}, {% endif %}{% endfor -%}
    ], lambda e: e.v is not null))))
{%- endmacro %}
{#- Spark: the added fields as text. When the object has none of the keys (the usual case)
    they are appended to its text; otherwise the object is rebuilt without them first
    (object_where). #}
{% macro spark__json_add_keys(object, keys, json_keys=[]) -%}
    transform(array(named_struct('o', {{ object }}, 'a', filter(array(
        {%- for key, expr in keys.items() %}named_struct('k', {{ backfill.spark__json_literal(key) }}, 'v', {% if key in json_keys %}cast({{ expr }} as string){% else %}{{ backfill.spark__json_scalar(expr) }}{% endif %}){% if not loop.last %}, {% endif %}{% endfor -%}
    ), e -> e.v is not null))), x -> case
        when x.o is null then null
        when size(x.a) = 0 then x.o
        else concat('{',
            {#- the object's own fields, without the added keys: its text between the braces #}
            coalesce(case
                when not arrays_overlap(json_object_keys(x.o), transform(x.a, e -> e.k))
                    then nullif(regexp_extract(x.o, '^\\s*\\{\\s*(.*?)\\s*\\}\\s*$', 1), '')
                else {{ backfill.spark__object_where('x.o', 'not array_contains(transform(x.a, e -> e.k), p.key)', braces=false) }}
            end || ',', ''),
            array_join(transform(x.a, e -> {{ backfill.spark__json_scalar('e.k') }} || ':' || e.v), ','),
        '}')
    end)[0]
{%- endmacro %}

{#- A Jinja string as a Spark string literal. #}
{% macro spark__json_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#
  A JSON pointer (RFC 6901) to the value under the keys `parts` (SQL text expressions), for
  keys only known at run time: any key works, `$`, `/`, `~`, dots and quotes included.
  DuckDB only: on every engine use json_get_keys(value, parts).
#}
{% macro json_pointer(parts) -%}
    ('/' || {% for part in parts %}replace(replace({{ part }}, '~', '~0'), '/', '~1'){% if not loop.last %} || '/' || {% endif %}{% endfor %})
{%- endmacro %}

{# The JSON value of `value` under the keys `parts` (SQL text expressions known at run time).
   On Spark a key holding `'` or `]` cannot be read (null). #}
{% macro json_get_keys(value, parts) -%}
    {{ return(adapter.dispatch('json_get_keys', 'backfill')(value, parts)) }}
{%- endmacro %}
{% macro duckdb__json_get_keys(value, parts) -%}
    json_extract({{ value }}, {{ json_pointer(parts) }})
{%- endmacro %}
{% macro spark__json_get_keys(value, parts) -%}
    {%- set path_parts = [] %}{% for part in parts %}{% do path_parts.append(", '[\\'', " ~ part ~ ", '\\']'") %}{% endfor -%}
    {{ backfill.spark__json_numbers("get_json_object(concat('[', " ~ value ~ ", ']'), concat('$[*]'" ~ path_parts | join('') ~ "))") }}
{%- endmacro %}

{#
  The JSON object `object` with only the entries (`p.key`, `p.value`) for which `keep` holds,
  in their order, each under the key `key` (default: as it was); null when none is kept.
  `keep` and `key` see `p.key` (text), `p.value` (the value's JSON text) and `p.id`.
#}
{% macro object_where(object, keep, key='p.key') -%}
    {{ return(adapter.dispatch('object_where', 'backfill')(object, keep, key)) }}
{%- endmacro %}
{% macro duckdb__object_where(object, keep, key='p.key') -%}
    (
        select to_json(map_from_entries(list({'k': {{ key }}, 'v': p.value} order by p.id)))
        from json_each({{ object }}) as p
        where {{ keep }}
    )
{%- endmacro %}
{#- Spark: the entries in order from `map<string,string>` (a string value comes unquoted, other
    values as JSON text), with `map<string,variant>` telling which values were strings. #}
{% macro spark__object_where(object, keep, key='p.key', braces=true) -%}
    transform(array({{ object }}), o -> {% if braces %}'{' || {% endif %}nullif(array_join(transform(
        filter(
            transform(
                zip_with(
                    map_entries(from_json(o, 'map<string,string>')),
                    map_values(from_json(o, 'map<string,variant>')),
                    (e, t) -> named_struct('key', e.key, 'value', case
                        when e.value is null then 'null'
                        when schema_of_variant(t) = 'STRING' then {{ backfill.spark__json_scalar('e.value') }}
                        else {{ backfill.spark__json_numbers('e.value') }}
                    end)),
                (e, i) -> named_struct('key', e.key, 'value', e.value, 'id', i + 1)),
            p -> {{ keep }}),
        p -> {{ backfill.spark__json_scalar(key) }} || ':' || p.value), ','), ''){% if braces %} || '}'{% endif %})[0]
{%- endmacro %}

{# A JSON object of `pairs`, a list of (key, SQL expression), in that order; a null value is
   written as JSON null (DuckDB's json_object). #}
{% macro json_object_of(pairs) -%}
    {{ return(adapter.dispatch('json_object_of', 'backfill')(pairs)) }}
{%- endmacro %}
{% macro duckdb__json_object_of(pairs) -%}
    json_object({% for key, expr in pairs %}'{{ key }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
{% macro spark__json_object_of(pairs) -%}
    concat('{'{% for key, expr in pairs %}, {{ backfill.spark__json_literal((key | tojson) ~ ':') }}, coalesce({{ backfill.spark__json_scalar(expr) }}, 'null'){% if not loop.last %}, ','{% endif %}{% endfor %}, '}')
{%- endmacro %}
