{#
  Incremental builds by load. Every raw row carries the `load_id` of the `sync load` that
  landed it, and load ids only grow, so a model built from raw rows keeps up with the
  warehouse by taking the loads above the newest one it has taken in before.

  That newest load is recorded per model in the table `dbt_watermarks` by the post-hook
  record_watermark (after a successful build only): for int_events__validated the newest load
  in raw.loads, for the marts built from it the load int_events__validated was built through.
  A load that gave a model no rows is not looked at again.

  `new_loads()` is the filter for the model being built: `load_id > N` with N read before the
  build (a literal, so DuckDB skips the row groups of older loads), `false` when its input has
  nothing newer than N, or `true` on a first build and with --full-refresh.
#}
{% macro last_built_load() %}
    {%- if execute and this is not none and is_incremental() -%}
        {%- set recorded = run_query(
            "select max(built_through_load) from " ~ this.schema ~ ".dbt_watermarks where model = '" ~ this.identifier ~ "'"
        ).columns[0].values()[0] -%}
        {%- if recorded is none -%}
            {#- a table built before watermarks were recorded: the newest load it holds #}
            {%- set recorded = run_query("select coalesce(max(load_id), 0) from " ~ this).columns[0].values()[0] -%}
        {%- endif -%}
        {{ return(recorded | int) }}
    {%- endif -%}
    {{ return(0) }}
{% endmacro %}

{% macro new_loads(column='load_id') -%}
    {%- set last = backfill.last_built_load() -%}
    {%- if last > 0 and backfill.upstream_through() <= last -%} false
    {%- elif last > 0 -%} {{ column }} > {{ last }} {%- else -%} true {%- endif -%}
{%- endmacro %}

{#- The newest load the model's input holds: raw.loads for int_events__validated, the load
    int_events__validated was built through for the marts. When the model has taken that in
    already, `new_loads()` is `false`, and DuckDB skips even the history scans of the models
    that recompute what new loads touch (persons, identity_links). #}
{% macro upstream_through() %}
    {{ return(run_query(backfill.upstream_through_sql()).columns[0].values()[0] | int) }}
{% endmacro %}

{% macro upstream_through_sql() %}
    {%- if this.identifier == 'int_events__validated' -%}
        {{ return("select coalesce(max(load_id), 0) from raw.loads") }}
    {%- endif -%}
    {{ return("select coalesce(max(built_through_load), 0) from " ~ this.schema ~ ".dbt_watermarks where model = 'int_events__validated'") }}
{% endmacro %}

{#- The post-hook of every incremental model: what it has now taken in (its input's newest load). #}
{% macro record_watermark() %}
    {{ return(adapter.dispatch('record_watermark', 'backfill')()) }}
{% endmacro %}

{% macro default__record_watermark() %}
    delete from {{ this.schema }}.dbt_watermarks where model = '{{ this.identifier }}';
    insert into {{ this.schema }}.dbt_watermarks values ('{{ this.identifier }}', ({{ backfill.upstream_through_sql() }}), '{{ invocation_id }}')
{% endmacro %}

{#
  Which build wrote a row: every incremental model stores the dbt invocation id of the build
  that wrote each row in `build_id`, and `dbt build` (or `dbt run`) records its own id in the
  one-row table `dbt_build` when it starts. Tests of per-row rules then look only at the rows
  of the current build (`where: "build_id = (select build_id from dbt_build)"`): rows already
  tested by an earlier build do not change. After --full-refresh every row is new, and a plain
  `dbt test` checks what the last build wrote.
#}
{% macro record_build() %}
    {{ return(adapter.dispatch('record_build', 'backfill')()) }}
{% endmacro %}

{% macro default__record_build() %}
    {%- if execute -%}
        {%- set recorded = adapter.get_relation(database=target.database, schema=target.schema, identifier='dbt_build') -%}
        {%- if recorded is not none and recorded.is_view -%}
            {#- a DuckDB state file that reads a Spark build (sync/spark.py attach): that build recorded itself -#}
            {{ return('select 1') }}
        {%- endif -%}
    {%- endif -%}
    {%- if execute -%}
        {%- set landed = run_query(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'loads'"
        ).columns[0].values()[0] -%}
        {%- if landed == 0 -%}
            {{ exceptions.raise_compiler_error(
                "the warehouse " ~ target.path ~ " has no raw tables yet: land an export first "
                ~ "(sync load SOURCE FILES...), then run dbt build"
            ) }}
        {%- endif -%}
    {%- endif %}
    create table if not exists {{ target.schema }}.dbt_watermarks (
        model varchar primary key, built_through_load bigint not null, build_id varchar
    );
    {%- if flags.WHICH in ('build', 'run') -%}
        create or replace table {{ target.schema }}.dbt_build as
        select '{{ invocation_id }}' as build_id, cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as started_at
    {%- else -%}
        create table if not exists {{ target.schema }}.dbt_build as
        select cast(null as varchar) as build_id, cast(null as timestamp) as started_at
    {%- endif -%}
{% endmacro %}

{#- Spark (spike): a hook is one statement there (dbt-spark does not split on `;`), and plain
    Parquet tables have no DELETE: the statements run one by one, and watermarks are appended
    (last_built_load reads their max; load ids only grow). #}
{% macro spark__record_build() %}
    {%- if execute -%}
        {%- if adapter.get_relation(database=none, schema='raw', identifier='loads') is none -%}
            {{ exceptions.raise_compiler_error("the Spark warehouse has no raw tables yet: land an export first") }}
        {%- endif -%}
        {#- tests read `dbt_build` unqualified, as DuckDB's default schema is the target's #}
        {%- do run_query("use " ~ target.schema) -%}
        {%- do run_query("create table if not exists " ~ target.schema ~ ".dbt_watermarks (model string, built_through_load bigint, build_id string) using parquet") -%}
        {%- if flags.WHICH in ('build', 'run') -%}
            {%- do run_query("drop table if exists " ~ target.schema ~ ".dbt_build") -%}
            {%- do run_query("create table " ~ target.schema ~ ".dbt_build using parquet as select '" ~ invocation_id ~ "' as build_id, cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp) as started_at") -%}
        {%- else -%}
            {%- do run_query("create table if not exists " ~ target.schema ~ ".dbt_build using parquet as select cast(null as string) as build_id, cast(null as timestamp) as started_at") -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}

{% macro spark__record_watermark() %}
    insert into {{ this.schema }}.dbt_watermarks select '{{ this.identifier }}', ({{ backfill.upstream_through_sql() }}), '{{ invocation_id }}'
{% endmacro %}

{% macro build_id() -%}
    '{{ invocation_id }}'
{%- endmacro %}
