"""Persons, households and the person-bearing records each source system holds about them.

Everything that makes identity resolution hard is planted here on purpose: households
sharing an address, a home phone and sometimes an email; twins; common names; nicknames,
typos and case noise; people who changed email or moved; duplicate accounts; junk
placeholders; several formats for phones and dates of birth.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from c360.datagen import reference as ref

# Activity segments (see activity.py): how a person buys over the window.
STEADY, CHURNER, NEW, LOW = 0, 1, 2, 3


def ascii_fold(text: str) -> str:
    """José -> Jose, Łukasz -> Lukasz: what people type into an email address."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def zipf_weights(count: int, exponent: float = 1.0) -> np.ndarray:
    """Skewed frequencies: the first names of a list are far more common than the last."""
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return weights / weights.sum()


@dataclass
class Person:
    """One real person (the ground truth) and what they look like across systems."""

    person_id: str
    first: str
    last: str
    dob: date
    country: str
    calling_code: str
    street: str
    suffix: tuple[str, ...]
    city: str
    postal: str
    old_street: str | None
    old_postal: str | None
    old_city: str | None
    home_phone: str | None
    mobile: str | None
    email: str | None
    old_email: str | None
    change_day: int
    segment: int
    start_day: int
    stop_day: int
    rate: float
    category: int

    def email_at(self, day: float) -> str | None:
        """The email the person used on `day` (the old one before they changed it)."""
        return self.old_email if self.old_email and day < self.change_day else self.email

    def address_at(self, day: float) -> tuple[str, str, str]:
        """(street without its type word, city, postal code) where the person lived on `day`."""
        if self.old_street and day < self.change_day:
            return self.old_street, self.old_city or self.city, self.old_postal or self.postal
        return self.street, self.city, self.postal


@dataclass
class Records:
    """Rows of the person-bearing tables for one chunk, column lists per table."""

    tables: dict[str, dict[str, list]] = field(default_factory=dict)
    truth: dict[str, list] = field(
        default_factory=lambda: {"source_system": [], "source_record_id": [], "person_id": []}
    )

    def add(
        self, table: str, row: dict, source_system: str, record_id: str, person_id: str
    ) -> None:
        columns = self.tables.setdefault(table, {name: [] for name in row})
        for name, value in row.items():
            columns[name].append(value)
        self.truth["source_system"].append(source_system)
        self.truth["source_record_id"].append(record_id)
        self.truth["person_id"].append(person_id)


class Noise:
    """Per-record corruption: how the same person ends up looking different in each system."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def typo(self, text: str) -> str:
        if len(text) < 4:
            return text
        i = int(self.rng.integers(1, len(text) - 1))
        kind = int(self.rng.integers(3))
        if kind == 0:  # transposition
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if kind == 1:  # dropped letter
            return text[:i] + text[i + 1 :]
        return text[:i] + text[i] + text[i:]  # doubled letter

    def name(self, name: str, nickname_ok: bool = True) -> str:
        if nickname_ok and name in ref.NICKNAMES_OF and self.chance(0.12):
            name = self.pick(ref.NICKNAMES_OF[name])
        if self.chance(0.035):
            name = self.typo(name)
        roll = self.rng.random()
        if roll < 0.07:
            name = name.upper()
        elif roll < 0.11:
            name = name.lower()
        elif roll < 0.13:
            name = f" {name} "
        return name

    def email(self, email: str | None) -> str:
        if email is None or self.chance(0.08):
            return ""
        roll = self.rng.random()
        if roll < 0.012:
            return self.pick(ref.JUNK_EMAILS)
        if roll < 0.02:
            return self.pick(ref.FREQUENT_JUNK_EMAILS)
        if roll < 0.022:
            return "n/a"  # unparseable
        if roll < 0.15:
            local, domain = email.split("@")
            email = f"{local.capitalize()}@{domain.capitalize()}"
        if self.chance(0.08):
            email = f"  {email} "
        return email

    def phone(self, person: Person, prefer_home: bool) -> str:
        roll = self.rng.random()
        if roll < 0.01:
            return self.pick(ref.JUNK_PHONES)
        if roll < 0.016:
            return self.pick(ref.FREQUENT_JUNK_PHONES)
        if roll < 0.018:
            return self.pick(("n/a", "12345", "call me"))
        number = (person.home_phone if prefer_home else person.mobile) or (
            person.mobile or person.home_phone
        )
        if number is None or self.chance(0.1):
            return ""
        return self.format_phone(person.calling_code, number)

    def format_phone(self, calling_code: str, national: str) -> str:
        if calling_code != "1":
            if self.chance(0.5):
                return f"+{calling_code} {national[:2]} {national[2:6]} {national[6:]}"
            return f"+{calling_code}{national}"
        a, b, c = national[:3], national[3:6], national[6:]
        return self.pick(
            (
                f"({a}) {b}-{c}",
                f"{a}.{b}.{c}",
                f"{a}-{b}-{c}",
                f"+1 {a} {b} {c}",
                f"1{a}{b}{c}",
                f"{a}{b}{c}",
            )
        )

    def dob(self, dob: date) -> str:
        roll = self.rng.random()
        if roll < 0.08:
            return ""
        if roll < 0.082:
            return self.pick(("31/02/1990", "unknown", "00.00.0000"))
        style = self.rng.random()
        if style < 0.5:
            return dob.isoformat()
        if style < 0.8:
            return f"{dob.month:02d}/{dob.day:02d}/{dob.year}"
        return f"{dob.day:02d}.{dob.month:02d}.{dob.year}"

    def boolean(self, value: bool) -> str:
        options = (
            ("true", "yes", "1", "TRUE", "Yes") if value else ("false", "no", "0", "FALSE", "No")
        )
        return self.pick(options)

    def optional(self, value: str, p_missing: float = 0.06) -> str:
        return "" if self.chance(p_missing) else value


def _us_number(rng: np.random.Generator, area_codes: tuple[int, ...]) -> str:
    area = area_codes[int(rng.integers(len(area_codes)))]
    exchange = int(rng.integers(200, 1000))
    return f"{area}{exchange}{int(rng.integers(0, 10000)):04d}"


def _foreign_number(rng: np.random.Generator, calling_code: str) -> str:
    # Valid landline ranges (libphonenumber accepts them): London 20 7xxx, Berlin 30, Paris 1.
    if calling_code == "44":
        return f"207{int(rng.integers(0, 10_000_000)):07d}"
    if calling_code == "49":
        return f"30{int(rng.integers(10_000_000, 100_000_000)):08d}"
    return f"1{int(rng.integers(10_000_000, 100_000_000)):08d}"


def make_people(
    rng: np.random.Generator, count: int, first_index: int, window_days: int
) -> list[Person]:
    """Draw `count` persons in households; ids P<global index>."""
    noise = Noise(rng)
    female_w = zipf_weights(len(ref.FEMALE_FIRST), 0.9)
    male_w = zipf_weights(len(ref.MALE_FIRST), 0.9)
    last_w = zipf_weights(len(ref.LAST_NAMES), 0.8)
    people: list[Person] = []
    used_emails: set[str] = set()
    while len(people) < count:
        size = int(rng.choice([1, 2, 3, 4, 5], p=[0.42, 0.3, 0.14, 0.1, 0.04]))
        foreign = rng.random() < 0.05
        if foreign:
            country, city, calling_code, _, postal_pattern = noise.pick(ref.FOREIGN)
            postal = postal_pattern.format(d=int(rng.integers(1, 9)))
        else:
            city, _, zip_base, area_codes = noise.pick(ref.US_CITIES)
            country, calling_code = "US", "1"
            postal = f"{zip_base + int(rng.integers(0, 60)):05d}"
        street = f"{int(rng.integers(1, 9999))} {noise.pick(ref.STREET_NAMES)} "
        suffix = noise.pick(ref.STREET_SUFFIXES)
        home_phone = None
        if rng.random() < 0.6:
            home_phone = (
                _foreign_number(rng, calling_code) if foreign else _us_number(rng, area_codes)
            )
        family_last = ref.LAST_NAMES[int(rng.choice(len(last_w), p=last_w))]
        shared_email = None
        twins = size >= 2 and rng.random() < 0.08
        first_dob = None
        used_first: set[str] = set()
        for member in range(size):
            if len(people) >= count:
                break
            female = rng.random() < 0.5
            names, weights = (ref.FEMALE_FIRST, female_w) if female else (ref.MALE_FIRST, male_w)
            first = names[int(rng.choice(len(weights), p=weights))]
            while first in used_first:  # one household does not reuse a first name
                first = names[int(rng.choice(len(weights), p=weights))]
            used_first.add(first)
            last = (
                family_last
                if rng.random() < 0.9
                else ref.LAST_NAMES[int(rng.choice(len(last_w), p=last_w))]
            )
            if twins and member == 1 and first_dob is not None:
                dob = first_dob  # twins: same birthday, same address and phone, other first name
            else:
                dob = date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 66)))
            first_dob = first_dob or dob
            person_number = first_index + len(people)
            base = ascii_fold(f"{first}.{last}".lower()).replace("'", "").replace(" ", "")
            email = None
            if rng.random() < 0.88:
                pattern = int(rng.integers(4))
                local = (base, base.replace(".", ""), f"{base[0]}{base.split('.')[-1]}")[
                    pattern % 3
                ]
                domain = ref.EMAIL_DOMAINS[
                    int(rng.choice(len(ref.EMAIL_DOMAINS), p=ref.EMAIL_DOMAIN_WEIGHTS))
                ]
                email = f"{local}@{domain}"
                # Gmail ignores dots, so uniqueness is checked without them.
                undotted = f"{local.replace('.', '')}@{domain}"
                if pattern == 3 or undotted in used_emails or first_index > 0:
                    # A real address has one owner: the person's global number keeps it
                    # unique across people and chunks (only chunk 0 keeps bare names).
                    email = f"{local}{person_number}@{domain}"
                used_emails.add(undotted)
            if size >= 2 and rng.random() < 0.15:
                # a household address used by several members
                family = ascii_fold(family_last).lower().replace("'", "")
                shared_email = shared_email or f"the{family}family{person_number}@gmail.com"
                email = shared_email
            old_email = None
            if email is not None and rng.random() < 0.12:
                old_local = f"{base.replace('.', '_')}.{person_number}"
                old_email = f"{old_local}@{noise.pick(ref.EMAIL_DOMAINS)}"
            moved = rng.random() < 0.1
            # half of the movers stay in town (new ZIP nearby), half come from another city
            old_city, old_postal = city, postal[:-2] + f"{int(rng.integers(0, 100)):02d}"
            if not foreign and rng.random() < 0.5:
                old_city, _, old_zip, _ = noise.pick(ref.US_CITIES)
                old_postal = f"{old_zip + int(rng.integers(0, 60)):05d}"
            mobile = None
            if rng.random() < 0.75:
                mobile = (
                    _foreign_number(rng, calling_code) if foreign else _us_number(rng, area_codes)
                )
            segment = int(rng.choice([STEADY, CHURNER, NEW, LOW], p=[0.42, 0.3, 0.15, 0.13]))
            if segment == NEW:
                start_day = int(rng.integers(window_days * 2 // 3, window_days - 30))
            else:
                start_day = int(rng.integers(0, window_days // 2))
            stop_day = window_days
            if segment == CHURNER:
                stop_day = int(rng.integers(min(start_day + 150, window_days - 1), window_days))
            rate = float(rng.lognormal(np.log(0.8), 0.5)) * (0.15 if segment == LOW else 1.0)
            people.append(
                Person(
                    person_id=f"P{first_index + len(people):08d}",
                    first=first,
                    last=last,
                    dob=dob,
                    country=country,
                    calling_code=calling_code,
                    street=street,
                    suffix=suffix,
                    city=city,
                    postal=postal,
                    old_street=f"{int(rng.integers(1, 9999))} {noise.pick(ref.STREET_NAMES)} "
                    if moved
                    else None,
                    old_postal=old_postal if moved else None,
                    old_city=old_city if moved else None,
                    home_phone=home_phone,
                    mobile=mobile,
                    email=email,
                    old_email=old_email,
                    change_day=int(rng.integers(start_day, window_days)),
                    segment=segment,
                    start_day=start_day,
                    stop_day=stop_day,
                    rate=rate,
                    category=int(rng.integers(len(ref.PRODUCT_CATEGORIES))),
                )
            )
    return people
