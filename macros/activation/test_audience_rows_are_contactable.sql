{#
    Generic test (on audience_membership): no row lacks consent on its channel or an
    identifier for it, carries a suppression for it, or belongs to a customer with an
    erasure request. Independent of the model's SQL: it reads customer_360, the
    suppressions and the erasure requests afresh. It covers every audience,
    since each audience_<name> view is a filter of this table.
#}
{% test audience_rows_are_contactable(model) %}
    select
        members.audience_name,
        members.customer_id,
        members.channel
    from {{ model }} as members
    left join {{ ref('customer_360') }} as customer
        on members.customer_id = customer.customer_id
    left join {{ ref('int_customer_suppressions') }} as suppressions
        on
            members.customer_id = suppressions.customer_id
            and suppressions.channel in ('all', members.channel)
    where
        customer.customer_id is null
        or suppressions.customer_id is not null
        or {{ is_erased_customer('members.customer_id') }}
        or not (
            (members.channel = 'email' and {{ audience_contactable('email') }})
            or (members.channel = 'sms' and {{ audience_contactable('sms') }})
            or (members.channel = 'phone' and {{ audience_contactable('phone') }})
            or (members.channel = 'ads' and {{ audience_contactable('ads') }})
        )
{% endtest %}
