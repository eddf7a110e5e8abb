-- Which raw columns lost the most values to the junk rules, to review the seed
-- list and the var junk_identifier_max_people against your own data.
select
    source_table,
    column_name,
    affected_rows,
    affected_share
from {{ ref('source_data_quality') }}
where issue = 'junk' and affected_rows > 0
order by affected_rows desc
