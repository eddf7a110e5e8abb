"""CRM contacts, shop accounts and loyalty members: what each system recorded about a person.

Each record is created on a random day of the person's active span, or on `day` when the
caller knows it (hard mode's re-issued cards and work accounts).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from c360.datagen.people import Noise, Person, Records


class Clock:
    """Turns a day offset in the window (float) into the contract's timestamp text."""

    def __init__(self, window_start: datetime) -> None:
        self.window_start = window_start

    def text(self, day: float) -> str:
        return (self.window_start + timedelta(days=float(day))).strftime("%Y-%m-%d %H:%M:%S")


def _record_day(rng: np.random.Generator, person: Person) -> float:
    return float(rng.uniform(person.start_day, max(person.start_day + 1, person.stop_day)))


def _street(noise: Noise, person: Person, day: float) -> tuple[str, str, str]:
    street, city, postal = person.address_at(day)
    return street + noise.pick(person.suffix), city, postal


def add_crm_contact(
    records: Records,
    noise: Noise,
    clock: Clock,
    person: Person,
    record_id: str,
    day: float | None = None,
) -> None:
    rng = noise.rng
    day = _record_day(rng, person) if day is None else day
    street, city, postal = _street(noise, person, day)
    updated = ""
    if noise.chance(0.4):
        updated = clock.text(min(day + float(rng.uniform(1, 400)), person.stop_day + 30))
        if noise.chance(0.002):
            updated = "not recorded"  # unparseable timestamp, kept and counted in staging
    records.add(
        "crm_contacts",
        {
            "contact_id": record_id,
            "first_name": noise.name(person.first),
            "last_name": noise.name(person.last, nickname_ok=False),
            "email": noise.email(person.email_at(day)),
            "phone": noise.phone(person, prefer_home=noise.chance(0.5)),
            "birth_date": noise.dob(person.dob),
            "street_address": noise.optional(street),
            "city": noise.optional(city),
            "postal_code": noise.optional(postal),
            "country": person.country,
            "created_at": clock.text(day),
            "updated_at": updated,
            "is_deleted": noise.boolean(noise.chance(0.03)),
        },
        "crm",
        record_id,
        person.person_id,
    )


def add_shop_customer(
    records: Records,
    noise: Noise,
    clock: Clock,
    person: Person,
    record_id: str,
    day: float | None = None,
) -> None:
    rng = noise.rng
    day = _record_day(rng, person) if day is None else day
    street, city, postal = _street(noise, person, day)
    records.add(
        "shop_customers",
        {
            "customer_id": record_id,
            "email": noise.email(person.email_at(day)),
            "first_name": noise.name(person.first),
            "last_name": noise.name(person.last, nickname_ok=False),
            "phone": noise.phone(person, prefer_home=False),
            "date_of_birth": noise.dob(person.dob) if noise.chance(0.6) else "",
            "address_line1": noise.optional(street, 0.1),
            "city": noise.optional(city, 0.1),
            "postal_code": noise.optional(postal, 0.1),
            "country": person.country,
            "accepts_marketing": noise.boolean(noise.chance(0.6)),
            "created_at": clock.text(day),
            "updated_at": clock.text(min(day + float(rng.uniform(0, 300)), person.stop_day + 10))
            if noise.chance(0.5)
            else "",
        },
        "shop",
        record_id,
        person.person_id,
    )


def add_loyalty_member(
    records: Records,
    noise: Noise,
    clock: Clock,
    person: Person,
    record_id: str,
    card: str,
    day: float | None = None,
) -> None:
    rng = noise.rng
    day = _record_day(rng, person) if day is None else day
    _, _, postal = person.address_at(day)
    records.add(
        "loyalty_members",
        {
            "member_id": record_id,
            "card_number": card,
            "first_name": noise.name(person.first),
            "last_name": noise.name(person.last, nickname_ok=False),
            "email": noise.email(person.email_at(day)),
            "phone": noise.phone(person, prefer_home=False),
            "birth_date": noise.dob(person.dob),
            "postal_code": noise.optional(postal),
            "tier": noise.pick(("bronze", "bronze", "silver", "silver", "gold", "platinum")),
            "points_balance": str(int(rng.integers(0, 20_000))),
            "enrolled_at": clock.text(day),
            "updated_at": "",
            "status": "closed" if person.segment == 1 and noise.chance(0.3) else "active",
        },
        "loyalty",
        record_id,
        person.person_id,
    )
