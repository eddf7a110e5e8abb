"""Activity: orders (with guest checkouts), POS sales, tickets, web and email events, consent.

Volumes scale with persons, so the large tables (web and email events, order lines) are
built with numpy arrays, never a Python loop per row. Churners' activity declines towards
their stop day and then stops; that is the signal the churn model must learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.datagen import reference as ref
from c360.datagen.contract import CONTRACT
from c360.datagen.people import CHURNER, LOW, Noise, Person, Records
from c360.datagen.records import Clock

Columns = dict[str, pa.Array | list]


@dataclass
class Accounts:
    """The ids a person's activity refers to: shop accounts, loyalty card."""

    shop: list[list[str]]
    card: list[str | None]


def ids(prefix: str, chunk: int, count: int) -> pa.Array:
    """Globally unique ids: prefix + chunk * 10^9 + position (chunks never collide)."""
    numbers = pa.array(np.arange(count, dtype=np.int64) + chunk * 1_000_000_000)
    return pc.binary_join_element_wise(prefix, pc.cast(numbers, pa.string()), "")


def timestamps(clock: Clock, days: np.ndarray) -> pa.Array:
    base = np.datetime64(clock.window_start.replace(microsecond=0), "s")
    seconds = np.round(days * 86400).astype("int64").astype("timedelta64[s]")
    return pc.strftime(pa.array(base + seconds), format="%Y-%m-%d %H:%M:%S")


def event_days(
    rng: np.random.Generator, start: np.ndarray, stop: np.ndarray, churner: np.ndarray
) -> np.ndarray:
    """Uniform over [start, stop]; for churners the density falls linearly to 0 at stop."""
    u = rng.random(len(start))
    x = np.where(churner, 1.0 - np.sqrt(1.0 - u), u)
    return start + (stop - start) * x


def money(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.round(values, 2)), pa.string())


def purchases(
    rng: np.random.Generator,
    noise: Noise,
    clock: Clock,
    chunk: int,
    people: list[Person],
    accounts: Accounts,
    records: Records,
) -> tuple[dict[str, Columns], list[str], np.ndarray]:
    """Online orders (account and guest), their lines and in-store POS sales; also the order
    ids and the index of the person behind each order, which support tickets refer to."""
    start = np.array([p.start_day for p in people], dtype=float)
    stop = np.array([p.stop_day for p in people], dtype=float)
    rate = np.array([p.rate for p in people]) * 0.45  # purchases per 30 days
    churner = np.array([p.segment == CHURNER for p in people])
    counts = rng.poisson(rate * (stop - start) / 30.0)
    person = np.repeat(np.arange(len(people)), counts)
    days = event_days(rng, start[person], stop[person], churner[person])
    has_shop = np.array([bool(a) for a in accounts.shop])
    has_card = np.array([c is not None for c in accounts.card])
    # a guest checkout needs an email: people without one buy in store or with an account
    has_email = np.array([p.email is not None for p in people])
    guest_prone = (rng.random(len(people)) < 0.1) & has_email
    online_p = np.where(has_shop, np.where(has_card, 0.55, 0.9), np.where(guest_prone, 0.85, 0.0))
    online = rng.random(len(person)) < online_p[person]

    # online orders: to an account, or a guest checkout (a person record of its own)
    o_person, o_days = person[online], days[online]
    n_orders = len(o_person)
    order_ids = ids("O", chunk, n_orders).to_pylist()
    customer_id, guest_email = [], []
    guest_now = (rng.random(n_orders) < 0.04) & has_email[o_person]
    for i, p in enumerate(o_person):
        shop = accounts.shop[p]
        if shop and not guest_now[i]:
            # a duplicate account gets a few orders too
            customer_id.append(shop[-1] if len(shop) > 1 and rng.random() < 0.2 else shop[0])
            guest_email.append(None)
        else:
            # a checkout needs an email: noisy or junk at times, never missing
            address = people[p].email_at(o_days[i])
            email = noise.email(address) or address
            customer_id.append(None)
            guest_email.append(email)
            records.truth["source_system"].append("shop_guest")
            records.truth["source_record_id"].append(order_ids[i])
            records.truth["person_id"].append(people[p].person_id)
    status_roll = rng.random(n_orders)
    status = np.where(
        status_roll < 0.9, "completed", np.where(status_roll < 0.94, "cancelled", "refunded")
    )
    foreign = np.array([p.country != "US" for p in people])
    currency = np.where(foreign[o_person], "EUR", "USD")

    # order lines: 1-4 per order, the person's favourite category more often than not
    n_lines = rng.integers(1, 5, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines)
    line_number = np.arange(len(line_order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    favourite = np.array([p.category for p in people])[o_person][line_order]
    category = np.where(
        rng.random(len(line_order)) < 0.6,
        favourite,
        rng.integers(0, len(ref.PRODUCT_CATEGORIES), len(line_order)),
    )
    unit_price = np.round(
        np.array(ref.CATEGORY_BASE_PRICE)[category] * rng.lognormal(0, 0.4, len(line_order)), 2
    )
    quantity = rng.integers(1, 4, len(line_order))
    totals = np.zeros(n_orders)
    np.add.at(totals, line_order, unit_price * quantity)
    postal = np.array([p.postal for p in people], dtype=object)[o_person]

    orders = {
        "order_id": order_ids,
        "customer_id": customer_id,
        "guest_email": guest_email,
        "status": pa.array(status),
        "currency": pa.array(currency),
        "total_amount": money(totals),
        "ordered_at": timestamps(clock, o_days),
        "updated_at": timestamps(clock, o_days + rng.uniform(0.1, 20, n_orders)),
        "shipping_postal_code": list(postal),
    }
    order_items = {
        "order_id": pc.take(pa.array(order_ids), pa.array(line_order)),
        "line_number": pc.cast(pa.array(line_number), pa.string()),
        "sku": pc.binary_join_element_wise(
            "SKU-",
            pc.cast(pa.array(category * 1000 + rng.integers(0, 200, len(line_order))), pa.string()),
            "",
        ),
        "product_category": pa.array(np.array(ref.PRODUCT_CATEGORIES)[category]),
        "quantity": pc.cast(pa.array(quantity), pa.string()),
        "unit_price": money(unit_price),
    }

    # in-store sales: linked to the person only by loyalty card or e-receipt email
    s_person, s_days = person[~online], days[~online]
    n_sales = len(s_person)
    show_card = (rng.random(n_sales) < 0.75) & has_card[s_person]
    card = [accounts.card[p] if show else None for p, show in zip(s_person, show_card, strict=True)]
    receipt = [
        (noise.email(people[p].email_at(d)) or None) if r < 0.2 else None
        for p, d, r in zip(s_person, s_days, rng.random(n_sales), strict=True)
    ]
    pos = {
        "transaction_id": ids("X", chunk, n_sales),
        "store_id": pc.binary_join_element_wise(
            "store-", pc.cast(pa.array(rng.integers(1, 60, n_sales)), pa.string()), ""
        ),
        "loyalty_card_number": card,
        "receipt_email": receipt,
        "amount": money(rng.lognormal(np.log(45), 0.6, n_sales)),
        "currency": pa.array(np.where(foreign[s_person], "EUR", "USD")),
        "transacted_at": timestamps(clock, s_days),
    }
    return (
        {"shop_orders": orders, "shop_order_items": order_items, "pos_transactions": pos},
        order_ids,
        o_person,
    )


def support_tickets(
    rng: np.random.Generator,
    noise: Noise,
    clock: Clock,
    chunk: int,
    people: list[Person],
    order_ids: list[str],
    order_person: np.ndarray,
    records: Records,
) -> Columns:
    """Tickets; churners complain more, just before they stop, and are resolved less often."""
    orders_of: dict[int, list[int]] = {}
    for i, p in enumerate(order_person):
        orders_of.setdefault(int(p), []).append(i)
    rows: dict[str, list] = {k: [] for k in CONTRACT["support_tickets"]}
    serial = 0
    for index, person in enumerate(people):
        churner = person.segment == CHURNER
        if rng.random() >= (0.35 if churner else 0.15):
            continue
        for _ in range(1 if rng.random() < 0.7 else int(rng.integers(2, 4))):
            if churner and rng.random() < 0.7:
                day = float(
                    rng.uniform(max(person.start_day, person.stop_day - 90), person.stop_day)
                )
            else:
                day = float(rng.uniform(person.start_day, person.stop_day))
            category = (
                noise.pick(("complaint", "complaint", "question", "return", "delivery"))
                if churner
                else noise.pick(("complaint", "question", "question", "return", "delivery"))
            )
            resolved = rng.random() < (0.5 if churner and category == "complaint" else 0.9)
            first = noise.name(person.first)
            name = (
                first
                if rng.random() < 0.2
                else f"{first} {noise.name(person.last, nickname_ok=False)}"
            )
            mine = orders_of.get(index, [])
            ticket_id = f"T{chunk * 1_000_000_000 + serial}"
            serial += 1
            rows["ticket_id"].append(ticket_id)
            rows["requester_name"].append(name)
            rows["requester_email"].append(noise.email(person.email_at(day)))
            rows["requester_phone"].append(
                noise.phone(person, prefer_home=False) if rng.random() < 0.5 else ""
            )
            rows["order_id"].append(
                order_ids[mine[int(rng.integers(len(mine)))]] if mine and rng.random() < 0.5 else ""
            )
            rows["channel"].append(noise.pick(ref.SUPPORT_CHANNELS))
            rows["category"].append(category)
            rows["status"].append("resolved" if resolved else "open")
            rows["satisfaction_score"].append(
                str(int(rng.integers(1, 3) if churner else rng.integers(3, 6)))
                if resolved and rng.random() < 0.6
                else ""
            )
            rows["created_at"].append(clock.text(day))
            rows["resolved_at"].append(
                clock.text(day + float(rng.uniform(0.05, 6))) if resolved else ""
            )
            records.truth["source_system"].append("support")
            records.truth["source_record_id"].append(ticket_id)
            records.truth["person_id"].append(person.person_id)
    return rows


def web_events(
    rng: np.random.Generator,
    clock: Clock,
    chunk: int,
    people: list[Person],
    accounts: Accounts,
    window_days: int,
) -> Columns:
    """Sessions on 1-2 devices per shopper, anonymous until the device's first login."""
    start = np.array([p.start_day for p in people], dtype=float)
    stop = np.array([p.stop_day for p in people], dtype=float)
    churner = np.array([p.segment == CHURNER for p in people])
    low = np.array([p.segment == LOW for p in people])
    has_shop = np.array([bool(a) for a in accounts.shop])
    n_devices = np.where(
        has_shop, rng.integers(1, 3, len(people)), (rng.random(len(people)) < 0.3).astype(int)
    )
    device_person = np.repeat(np.arange(len(people)), n_devices)
    n_dev = len(device_person)
    # anonymous devices that never belong to anyone known
    n_stray = int(len(people) * 0.2)
    sessions_per_device = rng.poisson(
        np.where(low[device_person], 2, 4) * (stop - start)[device_person] / 365.0 + 1
    )
    stray_sessions = rng.poisson(2, n_stray) + 1
    session_device = np.concatenate(
        [
            np.repeat(np.arange(n_dev), sessions_per_device),
            np.repeat(np.arange(n_dev, n_dev + n_stray), stray_sessions),
        ]
    )
    known = session_device < n_dev
    s_person = np.where(known, device_person[np.minimum(session_device, n_dev - 1)], -1)
    s_days = np.where(
        known,
        event_days(
            rng,
            start[np.maximum(s_person, 0)],
            stop[np.maximum(s_person, 0)],
            churner[np.maximum(s_person, 0)],
        ),
        rng.uniform(0, window_days, len(session_device)),
    )
    order = np.lexsort((s_days, session_device))
    session_device, s_person, s_days = session_device[order], s_person[order], s_days[order]
    # the session at which each device first logs in (never, for a quarter of them)
    first_session = np.searchsorted(session_device, np.arange(n_dev + n_stray))
    n_sessions = np.bincount(session_device, minlength=n_dev + n_stray)
    login_rank = np.floor(rng.random(n_dev + n_stray) * n_sessions).astype(int)
    logs_in = (
        (np.arange(n_dev + n_stray) < n_dev)
        & (rng.random(n_dev + n_stray) < 0.75)
        & has_shop[device_person.tolist() + [0] * n_stray]
    )
    rank = np.arange(len(session_device)) - first_session[session_device]
    logged_in = logs_in[session_device] & (rank >= login_rank[session_device])
    login_session = logs_in[session_device] & (rank == login_rank[session_device])

    n_events = rng.integers(2, 6, len(session_device))
    e_session = np.repeat(np.arange(len(session_device)), n_events)
    position = np.arange(len(e_session)) - np.repeat(np.cumsum(n_events) - n_events, n_events)
    roll = rng.random(len(e_session))
    event_type = np.where(
        roll < 0.5, "product_view", np.where(roll < 0.78, "page_view", "add_to_cart")
    )
    event_type = np.where(position == 0, "page_view", event_type)
    event_type = np.where((position == 1) & login_session[e_session], "login", event_type)
    # before the login event of the login session the visitor is still anonymous
    identified = logged_in[e_session] & ~(login_session[e_session] & (position == 0))
    primary = np.array([a[0] if a else None for a in accounts.shop] + [None], dtype=object)
    customer = np.where(
        identified, primary[np.where(s_person >= 0, s_person, len(people))[e_session]], None
    )
    category_index = rng.integers(0, len(ref.PRODUCT_CATEGORIES), len(e_session))
    has_category = np.isin(event_type, ["product_view", "add_to_cart"])
    page = np.where(
        has_category,
        "/product",
        np.array(ref.WEB_PAGES)[rng.integers(0, len(ref.WEB_PAGES), len(e_session))],
    )
    page = np.where(event_type == "login", "/login", page)
    return {
        "event_id": ids("W", chunk, len(e_session)),
        "anonymous_id": pc.binary_join_element_wise(
            "anon-",
            pc.cast(pa.array(session_device[e_session] + chunk * 1_000_000_000), pa.string()),
            "",
        ),
        "customer_id": pa.array(customer, type=pa.string()),
        "event_type": pa.array(event_type),
        "page_path": pa.array(page),
        "product_category": pa.array(
            np.where(has_category, np.array(ref.PRODUCT_CATEGORIES)[category_index], None),
            type=pa.string(),
        ),
        "occurred_at": timestamps(clock, s_days[e_session] + position * 45 / 86400),
    }


def email_events(
    rng: np.random.Generator, clock: Clock, chunk: int, people: list[Person], window_days: int
) -> Columns:
    """Monthly campaigns; opens and clicks fade for churners from 120 days before they stop."""
    subscribed = np.array([p.email is not None and rng.random() < 0.7 for p in people])
    idx = np.flatnonzero(subscribed)
    campaign_days = np.arange(15, window_days, 30, dtype=float)
    start = np.array([people[i].start_day for i in idx], dtype=float)
    stop = np.array([people[i].stop_day for i in idx], dtype=float)
    churner = np.array([people[i].segment == CHURNER for i in idx])
    base_open = np.where(np.array([people[i].segment == LOW for i in idx]), 0.12, 0.35)
    sent = (campaign_days[None, :] >= start[:, None]) & (
        rng.random((len(idx), len(campaign_days))) < 0.6
    )
    p_row, c_col = np.nonzero(sent)
    days = campaign_days[c_col] + rng.uniform(0, 0.3, len(p_row))
    fade = np.clip((stop[p_row] - days) / 120.0, 0.0, 1.0)
    p_open = np.where(churner[p_row], base_open[p_row] * (0.1 + 0.9 * fade), base_open[p_row])
    bounce = rng.random(len(p_row)) < 0.01
    opened = ~bounce & (rng.random(len(p_row)) < p_open)
    clicked = opened & (rng.random(len(p_row)) < 0.3)
    unsub = opened & (rng.random(len(p_row)) < np.where(churner[p_row], 0.02, 0.003))
    emails = np.array([people[i].email for i in idx], dtype=object)
    old = np.array([people[i].old_email or people[i].email for i in idx], dtype=object)
    change = np.array([people[i].change_day for i in idx], dtype=float)
    address = np.where(days < change[p_row], old[p_row], emails[p_row])
    parts = [
        (np.ones(len(p_row), bool), "sent", 0.0),
        (bounce, "bounce", 0.01),
        (opened, "open", 0.2),
        (clicked, "click", 0.25),
        (unsub, "unsubscribe", 0.3),
    ]
    mask_days = np.concatenate([days[m] + offset for m, _, offset in parts])
    event_type = np.concatenate([np.full(int(m.sum()), name) for m, name, _ in parts])
    rows = np.concatenate([np.flatnonzero(m) for m, _, _ in parts])
    order = np.argsort(mask_days, kind="stable")
    return {
        "event_id": ids("E", chunk, len(order)),
        "email": pa.array(address[rows][order], type=pa.string()),
        "campaign_id": pc.binary_join_element_wise(
            "camp-", pc.cast(pa.array(c_col[rows][order]), pa.string()), ""
        ),
        "event_type": pa.array(event_type[order]),
        "occurred_at": timestamps(clock, mask_days[order]),
    }


def consent_events(
    rng: np.random.Generator,
    noise: Noise,
    clock: Clock,
    chunk: int,
    people: list[Person],
    accounts: Accounts,
) -> Columns:
    """Grants and revocations per channel; the latest per subject and channel wins."""
    rows: dict[str, list] = {k: [] for k in CONTRACT["consent_events"]}
    serial = 0
    for index, person in enumerate(people):
        for channel, p_grant in (("email", 0.65), ("sms", 0.35), ("ads", 0.4), ("phone", 0.1)):
            if rng.random() >= p_grant:
                continue
            email = person.email if channel in ("email", "ads") else None
            phone = person.mobile if channel in ("sms", "phone") else None
            customer = (
                accounts.shop[index][0] if channel == "ads" and accounts.shop[index] else None
            )
            if email is None and phone is None and customer is None:
                continue
            day = float(rng.uniform(person.start_day, max(person.start_day + 1, person.stop_day)))
            statuses = ["granted"]
            if rng.random() < (0.4 if person.segment == CHURNER else 0.15):
                statuses.append("revoked")
                if rng.random() < 0.25:
                    statuses.append("granted")
            for status in statuses:
                rows["event_id"].append(f"K{chunk * 1_000_000_000 + serial}")
                serial += 1
                rows["email"].append(email or "")
                rows["phone"].append(
                    noise.format_phone(person.calling_code, phone) if phone else ""
                )
                rows["customer_id"].append(customer or "")
                rows["channel"].append(channel)
                rows["status"].append(status)
                rows["lawful_basis"].append("consent")
                rows["source_system"].append(noise.pick(ref.CONSENT_SOURCES))
                rows["recorded_at"].append(clock.text(day))
                day += float(rng.uniform(1, 300))
    return rows


def privacy_requests(
    rng: np.random.Generator,
    noise: Noise,
    clock: Clock,
    chunk: int,
    people: list[Person],
    window_days: int,
) -> Columns:
    """A few erasure and access requests, often made with an email the person no longer uses."""
    rows: dict[str, list] = {k: [] for k in CONTRACT["privacy_requests"]}
    for index, person in enumerate(people):
        if person.email is None or rng.random() >= 0.003:
            continue
        rows["request_id"].append(f"R{chunk * 1_000_000_000 + index}")
        rows["request_type"].append("erasure" if rng.random() < 0.6 else "access")
        rows["email"].append(person.old_email or person.email)
        rows["phone"].append(
            noise.format_phone(person.calling_code, person.mobile)
            if person.mobile and rng.random() < 0.3
            else ""
        )
        rows["received_at"].append(
            clock.text(float(rng.uniform(window_days - 200, window_days - 1)))
        )
        rows["status"].append(noise.pick(("received", "completed")))
    return rows
