"""Synthetic raw exports of the source contract, with ground truth, for tests and benchmarks.

    python -m c360.datagen --persons 100000 --seed 1 --out DIR [--format csv|parquet]
        [--difficulty default|hard]

Persons are generated in independent chunks (each with its own seeded generator) and
streamed to the files chunk by chunk, so memory stays flat and output is deterministic.
`hard` plants the realistic difficulties of c360.datagen.hard on top of the default data
(which it leaves drawn as it was).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from c360.datagen import activity
from c360.datagen.contract import CONTRACT
from c360.datagen.hard import Hard
from c360.datagen.people import Noise, Records, make_people
from c360.datagen.records import Clock, add_crm_contact, add_loyalty_member, add_shop_customer
from c360.datagen.writer import TableWriters

CHUNK_PERSONS = 50_000
WINDOW_DAYS = 3 * 365
DIFFICULTIES = ("default", "hard")


def generate_chunk(
    seed: int, chunk: int, persons: int, as_of: date, difficulty: str = "default"
) -> dict[str, dict]:
    """Every table's rows for persons [chunk * CHUNK_PERSONS, + persons), as column mappings."""
    rng = np.random.default_rng([seed, chunk])
    noise = Noise(rng)
    clock = Clock(datetime.combine(as_of - timedelta(days=WINDOW_DAYS), datetime.min.time()))
    people = make_people(rng, persons, chunk * CHUNK_PERSONS, WINDOW_DAYS)
    records = Records()
    shop_accounts: list[list[str]] = []
    cards: list[str | None] = []
    serial = {"crm": 0, "shop": 0, "loyalty": 0}

    def next_id(kind: str, prefix: str) -> str:
        serial[kind] += 1
        return f"{prefix}{chunk * 1_000_000_000 + serial[kind]}"

    def next_card() -> str:
        return f"LC{chunk:03d}{serial['loyalty'] + 1:08d}"

    for person in people:
        if rng.random() < 0.5:
            add_crm_contact(records, noise, clock, person, next_id("crm", "C"))
            if rng.random() < 0.03:  # a duplicate contact for the same person
                add_crm_contact(records, noise, clock, person, next_id("crm", "C"))
        mine: list[str] = []
        if rng.random() < 0.6:
            for _ in range(2 if rng.random() < 0.04 else 1):  # duplicate shop accounts
                mine.append(next_id("shop", "S"))
                add_shop_customer(records, noise, clock, person, mine[-1])
        shop_accounts.append(mine)
        card = None
        if rng.random() < 0.35:
            card = next_card()
            add_loyalty_member(records, noise, clock, person, next_id("loyalty", "L"), card)
        cards.append(card)

    hard = None
    if difficulty == "hard":
        hard = Hard(seed, chunk, people, clock, chunk * CHUNK_PERSONS)
        hard.add_records(records, next_id, next_card)
    accounts = activity.Accounts(shop=shop_accounts, card=cards)
    tables: dict[str, dict] = dict(records.tables)
    bought, order_ids, order_person = activity.purchases(
        rng, noise, clock, chunk, people, accounts, records
    )
    if hard:
        hard.move_orders(bought["shop_orders"], order_person)
        hard.move_sales(bought["pos_transactions"])
    tables.update(bought)
    tables["support_tickets"] = activity.support_tickets(
        rng, noise, clock, chunk, people, order_ids, order_person, records
    )
    if hard:
        hard.corrupt(tables, records.truth)
    tables["web_events"] = activity.web_events(rng, clock, chunk, people, accounts, WINDOW_DAYS)
    tables["email_events"] = activity.email_events(rng, clock, chunk, people, WINDOW_DAYS)
    tables["consent_events"] = activity.consent_events(rng, noise, clock, chunk, people, accounts)
    tables["privacy_requests"] = activity.privacy_requests(
        rng, noise, clock, chunk, people, WINDOW_DAYS
    )
    tables["truth_person_records"] = records.truth
    return tables


def generate(
    persons: int,
    seed: int,
    out: Path,
    fmt: str = "csv",
    as_of: date = date(2026, 1, 1),
    workers: int = 2,
    difficulty: str = "default",
) -> dict[str, int]:
    """Write every contract table (and truth_person_records.csv) to `out`; rows per table."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    if persons < 1:
        raise ValueError(f"persons must be at least 1, got {persons}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chunks = [
        (seed, chunk, min(CHUNK_PERSONS, persons - first), as_of, difficulty)
        for chunk, first in enumerate(range(0, persons, CHUNK_PERSONS))
    ]
    with TableWriters(out, fmt, CONTRACT) as writers:
        if len(chunks) == 1 or workers <= 1:
            for args in chunks:
                _write_all(writers, generate_chunk(*args))
        else:
            # Chunks are independent, so workers generate them in parallel; results are
            # written in chunk order (deterministic files) with a bounded look-ahead
            # (flat memory).
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending: deque = deque()
                for args in chunks:
                    pending.append(pool.submit(generate_chunk, *args))
                    if len(pending) > workers:
                        _write_all(writers, pending.popleft().result())
                while pending:
                    _write_all(writers, pending.popleft().result())
        return dict(writers.rows)


def _write_all(writers: TableWriters, tables: dict[str, dict]) -> None:
    for name in CONTRACT:
        writers.write(name, tables.get(name, {}))


__all__ = ["CONTRACT", "DIFFICULTIES", "generate"]
