{#
    Every record held about every customer, in every source, one row per
    (customer, source table, source record): what a subject-access export must show
    (c360.privacy.access_export reads this view filtered to one customer). Built on
    the complete identity graph, erased customers included. The query is the macro
    customer_records_linked (macros/privacy/customer_records_linked.sql), over every
    customer here; privacy_erasure_manifest renders it for the erased customers only,
    so the erasure does not build every customer's records first.
#}
{{ customer_records_linked() }}
