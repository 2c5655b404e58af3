with

source as (

    select * from {{ source('landing', 'load_errors') }}

),

final as (

    select
        source_system,
        load_id,
        line_number,
        file_path,
        error as detail,
        line as source_line

    from source

)

select * from final
