{#
  One row per landed file, with the id PostHog receives as `$import_job_id` on its events: a
  UUIDv5 of the source and the file's SHA-256, so it is the same whatever the load's number and
  however often the models are rebuilt, and the events of one export file can be found and
  counted in PostHog (`$import_job_id = '...'`) and here (`select * from stg_landing__loads`).
#}

with

source as (

    select * from {{ source('landing', 'loads') }}

),

final as (

    select
        load_id,
        source_system,
        file_path,
        content_sha256,
        records,
        {{ uuid_v5('backfill_import_', "source_system || ':' || content_sha256") }} as import_job_id

    from source

)

select * from final
