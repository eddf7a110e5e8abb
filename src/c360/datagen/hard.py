"""Hard mode (`--difficulty hard`): realistic difficulties on top of everything default plants.

Every draw here comes from a generator of its own, seeded with (seed, chunk, STREAM), so
the default records are drawn exactly as in default mode: a hard folder is the default
folder with the changes and extra records below, and truth is exact for all of them.

The rates are those of real customer files, not extremes:

- first names with one keyboard typo (substitution, transposition, insertion or deletion,
  never in the first letter), short names included (Mark/Mrrk, Jerry/Jeryr):
  FIRST_NAME_TYPO of person-bearing records (CRM, shop, loyalty, support requester);
- dates of birth with one digit wrong (DOB_DIGIT_TYPO), day and month swapped
  (DOB_DAY_MONTH_SWAP, where the swapped date exists), and UK day-first dates written
  with slashes, which the contract reads as US (DOB_UK_GB of a British person's dates,
  DOB_UK_OTHER of everyone else's: a UK-locale spreadsheet);
- maiden names: MARRIED of women aged MARRIAGE_AGE marry during the window; their
  records created before the wedding carry the maiden name;
- umlaut and accent variants (Müller/Mueller/Muller, Søren/Soeren, Zoë/Zoe): NAME_VARIANT
  of the records whose names have one, TRANSLITERATE of those spelled out (ü -> ue);
- postal codes that lost their leading zero (02134 -> 2134): POSTAL_LOST_ZERO of them;
- lost loyalty cards: CARD_REISSUED of loyalty members get a new card and a second member
  record (the old one closed), often with fresh contact data; in-store sales from the
  re-issue on carry the new card;
- work emails: WORK_ACCOUNT of persons with a CRM or shop record open another account
  (shop or CRM) with a work email; some of their later orders are placed on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np
import pyarrow as pa

from c360.datagen import reference as ref
from c360.datagen.people import Noise, Person, Records, ascii_fold, zipf_weights
from c360.datagen.records import Clock, add_crm_contact, add_loyalty_member, add_shop_customer

STREAM = 1  # the hard generator is seeded with [seed, chunk, STREAM]
NextId = Callable[[str, str], str]  # (kind, prefix) -> the chunk's next record id
NextCard = Callable[[], str]  # the chunk's next loyalty card number

# per person-bearing record
FIRST_NAME_TYPO = 0.05
NAME_VARIANT = 0.4
TRANSLITERATE = 0.6
# per date of birth written in one of the contract's formats (not empty, not junk)
DOB_DIGIT_TYPO = 0.02
DOB_DAY_MONTH_SWAP = 0.015
DOB_UK_GB = 0.6
DOB_UK_OTHER = 0.005
# per postal code that starts with a zero
POSTAL_LOST_ZERO = 0.3
# per person
MARRIED = 0.08
MARRIAGE_AGE = (22, 45)
CARD_REISSUED = 0.06
REISSUE_AFTER_DAYS = 30  # a card is lost at least this long after enrolling
REISSUE_NEW_EMAIL = 0.35
REISSUE_NEW_PHONE = 0.25
WORK_ACCOUNT = 0.03
WORK_ACCOUNT_SHOP = 0.7
WORK_ACCOUNT_PHONE = 0.5
WORK_ACCOUNT_ORDERS = 0.3

WORK_DOMAINS = (
    "contoso.com",
    "fabrikam.com",
    "northwindtraders.com",
    "adventure-works.com",
    "tailspintoys.com",
    "wingtiptoys.com",
    "litwareinc.com",
    "proseware.com",
    "woodgrovebank.com",
    "fourthcoffee.com",
    "alpineskihouse.com",
    "blueyonderairlines.com",
    "cohowinery.com",
    "lucernepublishing.com",
    "margiestravel.com",
    "treyresearch.net",
    "wideworldimporters.com",
    "graphicdesigninstitute.com",
    "humongousinsurance.com",
    "consolidatedmessenger.com",
)
# ü -> ue as German and Scandinavian names are spelled without the letter; other accents
# are dropped (é -> e) by ascii_fold
TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "å": "aa", "æ": "ae"}
QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def _keyboard_neighbours() -> dict[str, str]:
    """Keys around each letter on a QWERTY keyboard (rows are staggered to the right)."""
    around: dict[str, str] = {}
    for r, row in enumerate(QWERTY):
        for c, key in enumerate(row):
            near = [row[c - 1] if c > 0 else "", row[c + 1] if c + 1 < len(row) else ""]
            if r > 0:
                above = QWERTY[r - 1]
                near += [above[c], above[c + 1] if c + 1 < len(above) else ""]
            if r + 1 < len(QWERTY):
                below = QWERTY[r + 1]
                near += [below[c - 1] if 0 < c <= len(below) else "", below[c : c + 1]]
            around[key] = "".join(near)
    return around


NEIGHBOURS = _keyboard_neighbours()
PADDED = re.compile(r"(\s*)(.*?)(\s*)", re.DOTALL)


def _split_padding(text: str) -> tuple[str, str, str]:
    lead, core, trail = PADDED.fullmatch(text).groups()
    return lead, core, trail


def restyle(new: str, old: str) -> str:
    """`new` written the way `old` was: same case style and surrounding whitespace."""
    lead, core, trail = _split_padding(old)
    if not core:
        return old
    if core.isupper() and len(core) > 1:
        new = new.upper()
    elif core.islower():
        new = new.lower()
    return f"{lead}{new}{trail}"


def name_variant(name: str, transliterate: bool) -> str:
    """Müller -> Mueller (transliterate) or Muller; names in plain ASCII are unchanged."""
    if name.isascii():
        return name
    shouting = name.strip().isupper() and len(name.strip()) > 1
    out = []
    for ch in name:
        low = ch.lower()
        if low in TRANSLITERATION and (transliterate or low == "ß"):
            spelled = TRANSLITERATION[low]
            if ch != low:
                spelled = spelled.upper() if shouting else spelled.capitalize()
            out.append(spelled)
        else:
            out.append(ascii_fold(ch) or ch)
    return "".join(out)


def _neighbour(letter: str, u: float) -> str:
    keys = NEIGHBOURS.get(ascii_fold(letter).lower(), "")
    if not keys:
        return ""
    key = keys[int(u * len(keys))]
    return key.upper() if letter.isupper() else key


def first_name_typo(name: str, u_kind: float, u_at: float, u_key: float) -> str:
    """One keyboard slip after the first letter: a neighbouring key instead of the right
    one, two letters swapped, a letter too many (a neighbour or the same key twice), or
    one left out. Names under three letters are left alone."""
    lead, core, trail = _split_padding(name)
    n = len(core)
    if n < 3:
        return name
    kind = int(u_kind * 4)
    typed = core
    if kind == 0:  # substitution
        i = 1 + int(u_at * (n - 1))
        key = _neighbour(core[i], u_key)
        typed = core[:i] + key + core[i + 1 :] if key else core
    elif kind == 1:  # transposition
        i = 1 + int(u_at * (n - 2))
        typed = core[:i] + core[i + 1] + core[i] + core[i + 2 :]
    elif kind == 2:  # insertion
        i = 1 + int(u_at * n)
        key = core[i - 1] if u_key < 0.3 else _neighbour(core[i - 1], (u_key - 0.3) / 0.7)
        key = key.upper() if core.isupper() else key.lower()
        typed = core[:i] + key + core[i:]
    if typed == core:  # deletion, or a slip that changed nothing (swapping 'rr')
        i = 1 + int(u_at * (n - 1))
        typed = core[:i] + core[i + 1 :]
    return f"{lead}{typed}{trail}"


def _written_as(text: str, dob: date) -> str | None:
    """Which of the contract's formats `text` writes `dob` in (None: empty or junk)."""
    for style in ("iso", "us", "dotted"):
        if text == _render(dob, style):
            return style
    return None


def _render(value: date, style: str) -> str:
    if style == "iso":
        return value.isoformat()
    if style == "us":
        return f"{value.month:02d}/{value.day:02d}/{value.year}"
    if style == "uk":
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def dob_slip(text: str, person: Person, u: np.ndarray) -> str:
    """A recorded date of birth with at most one swap or UK rendering, and maybe a digit
    typo; `u` holds five uniform draws."""
    style = _written_as(text, person.dob)
    if style is None:
        return text
    value = person.dob
    if u[0] < DOB_DAY_MONTH_SWAP and value.day <= 12 and value.day != value.month:
        text = _render(date(value.year, value.day, value.month), style)
    elif u[1] < (DOB_UK_GB if person.country == "GB" else DOB_UK_OTHER):
        text = _render(value, "uk")
    if u[2] < DOB_DIGIT_TYPO:
        digits = [i for i, ch in enumerate(text) if ch.isdigit()]
        i = digits[int(u[3] * len(digits))]
        wrong = (int(text[i]) + 1 + int(u[4] * 9)) % 10
        text = f"{text[:i]}{wrong}{text[i + 1 :]}"
    return text


@dataclass(frozen=True)
class Marriage:
    maiden: str
    since: str  # timestamp text: records created before it carry the maiden name


# table -> (source_system, first name, last name, date of birth, postal code, created at)
RECORD_TABLES = {
    "crm_contacts": ("crm", "first_name", "last_name", "birth_date", "postal_code", "created_at"),
    "shop_customers": (
        "shop",
        "first_name",
        "last_name",
        "date_of_birth",
        "postal_code",
        "created_at",
    ),
    "loyalty_members": (
        "loyalty",
        "first_name",
        "last_name",
        "birth_date",
        "postal_code",
        "enrolled_at",
    ),
}
REQUESTER = re.compile(r"(\s*)(\S+)(\s+)(\S+)(\s*)")


class Hard:
    """The hard-mode plan of one chunk and the steps that plant it, called in this order:
    add_records (after the default records), move_orders and move_sales (after the
    purchases), corrupt (once every person-bearing table exists)."""

    def __init__(
        self, seed: int, chunk: int, people: list[Person], clock: Clock, first_index: int
    ) -> None:
        self.rng = np.random.default_rng([seed, chunk, STREAM])
        self.noise = Noise(self.rng)
        self.people, self.clock, self.chunk, self.first_index = people, clock, chunk, first_index
        self.marriages = self._marriages(clock.window_start.date())
        self.reissued: dict[str, tuple[str, str]] = {}  # old card -> (since, new card)
        self.work_accounts: dict[int, tuple[str, str]] = {}  # person -> (shop account, since)

    def _marriages(self, window_start: date) -> dict[int, Marriage]:
        women = set(ref.FEMALE_FIRST)
        weights = zipf_weights(len(ref.LAST_NAMES), 0.8)
        u = self.rng.random((len(self.people), 2))
        married = {}
        for i, person in enumerate(self.people):
            age = (window_start - person.dob).days / 365.25
            if (
                person.first not in women
                or not MARRIAGE_AGE[0] <= age <= MARRIAGE_AGE[1]
                or u[i, 0] >= MARRIED
            ):
                continue
            maiden = person.last
            while maiden == person.last:
                maiden = ref.LAST_NAMES[int(self.rng.choice(len(weights), p=weights))]
            day = person.start_day + u[i, 1] * (person.stop_day - person.start_day)
            married[i] = Marriage(maiden, self.clock.text(day))
        return married

    def _day(self, text: str) -> float:
        moment = datetime.strptime(text, TIMESTAMP)
        return (moment - self.clock.window_start).total_seconds() / 86400

    def _person_number(self, index: int) -> int:
        return self.first_index + index

    def add_records(self, records: Records, next_id: NextId, next_card: NextCard) -> None:
        """Second loyalty records for re-issued cards, then work-email accounts."""
        self._reissue_cards(records, next_id, next_card)
        self._work_accounts(records, next_id)

    def _reissue_cards(self, records: Records, next_id: NextId, next_card: NextCard) -> None:
        members = records.tables.get("loyalty_members")
        u = self.rng.random((len(self.people), 4))
        if not members:
            return
        row_of = {card: row for row, card in enumerate(members["card_number"])}
        truth = records.truth
        owner = {
            int(pid[1:]) - self.first_index: rid
            for system, rid, pid in zip(
                truth["source_system"], truth["source_record_id"], truth["person_id"], strict=True
            )
            if system == "loyalty"
        }
        member_row = {rid: row for row, rid in enumerate(members["member_id"])}
        for index, person in enumerate(self.people):
            if index not in owner or u[index, 0] >= CARD_REISSUED:
                continue
            row = member_row[owner[index]]
            old_card = members["card_number"][row]
            first_day = self._day(members["enrolled_at"][row]) + REISSUE_AFTER_DAYS
            if first_day >= person.stop_day:
                continue
            day = first_day + u[index, 1] * (person.stop_day - first_day)
            fresh = person
            if u[index, 2] < REISSUE_NEW_EMAIL:
                fresh = replace(fresh, email=self._new_email(index), old_email=None)
            if u[index, 3] < REISSUE_NEW_PHONE:
                fresh = replace(fresh, mobile=self._new_mobile(person), home_phone=None)
            card = next_card()
            add_loyalty_member(
                records, self.noise, self.clock, fresh, next_id("loyalty", "L"), card, day=day
            )
            since = self.clock.text(day)
            members["status"][row_of[old_card]] = "closed"
            members["updated_at"][row_of[old_card]] = since
            self.reissued[old_card] = (since, card)

    def _new_email(self, index: int) -> str:
        person = self.people[index]
        local = ascii_fold(f"{person.first}{person.last}".lower()).replace("'", "")
        domain = ref.EMAIL_DOMAINS[int(self.rng.integers(len(ref.EMAIL_DOMAINS)))]
        return f"{local.replace(' ', '')}{self._person_number(index)}@{domain}"

    def _new_mobile(self, person: Person) -> str:
        if person.calling_code == "1":
            known = person.mobile or person.home_phone
            area = known[:3] if known else "212"
            exchange = int(self.rng.integers(200, 1000))
            return f"{area}{exchange}{int(self.rng.integers(0, 10_000)):04d}"
        if person.calling_code == "44":
            return f"207{int(self.rng.integers(0, 10_000_000)):07d}"
        if person.calling_code == "49":
            return f"30{int(self.rng.integers(10_000_000, 100_000_000)):08d}"
        return f"1{int(self.rng.integers(10_000_000, 100_000_000)):08d}"

    def _work_accounts(self, records: Records, next_id: NextId) -> None:
        known = {
            int(pid[1:]) - self.first_index
            for system, pid in zip(
                records.truth["source_system"], records.truth["person_id"], strict=True
            )
            if system in ("crm", "shop")
        }
        u = self.rng.random((len(self.people), 5))
        taken: set[str] = set()
        for index, person in enumerate(self.people):
            if index not in known or u[index, 0] >= WORK_ACCOUNT:
                continue
            domain = WORK_DOMAINS[int(u[index, 1] * len(WORK_DOMAINS))]
            local = ascii_fold(f"{person.first}.{person.last}".lower())
            local = local.replace("'", "").replace(" ", "")
            email = f"{local}@{domain}"
            if email in taken or self.chunk > 0:  # one owner per address, across chunks too
                email = f"{local}{self._person_number(index)}@{domain}"
            taken.add(email)
            phones = (
                {} if u[index, 2] < WORK_ACCOUNT_PHONE else {"mobile": None, "home_phone": None}
            )
            worker = replace(person, email=email, old_email=None, **phones)
            day = person.start_day + u[index, 3] * (person.stop_day - person.start_day)
            if u[index, 4] < WORK_ACCOUNT_SHOP:
                account = next_id("shop", "S")
                add_shop_customer(records, self.noise, self.clock, worker, account, day=day)
                self.work_accounts[index] = (account, self.clock.text(day))
            else:
                add_crm_contact(
                    records, self.noise, self.clock, worker, next_id("crm", "C"), day=day
                )

    def move_orders(self, orders: dict, order_person: np.ndarray) -> None:
        """Some of a person's account orders after the work account opened go to it."""
        u = self.rng.random(len(order_person))
        if not self.work_accounts:
            return
        ordered_at = _texts(orders["ordered_at"])
        customer = orders["customer_id"]
        for i, index in enumerate(order_person):
            work = self.work_accounts.get(int(index))
            if (
                work
                and customer[i] is not None
                and ordered_at[i] >= work[1]
                and u[i] < WORK_ACCOUNT_ORDERS
            ):
                customer[i] = work[0]

    def move_sales(self, pos: dict) -> None:
        """In-store sales on a lost card from its re-issue on carry the new card."""
        if not self.reissued:
            return
        cards = pos["loyalty_card_number"]
        when = _texts(pos["transacted_at"])
        for i, card in enumerate(cards):
            if card in self.reissued and when[i] >= self.reissued[card][0]:
                cards[i] = self.reissued[card][1]

    def corrupt(self, tables: dict[str, dict], truth: dict[str, list]) -> None:
        """Name, date of birth and postal code slips in every person-bearing table."""
        persons: dict[str, list[int]] = {}
        for system, pid in zip(truth["source_system"], truth["person_id"], strict=True):
            persons.setdefault(system, []).append(int(pid[1:]) - self.first_index)
        for table, (system, first, last, dob, postal, created) in RECORD_TABLES.items():
            columns = tables.get(table)
            if columns:
                self._corrupt_records(columns, persons[system], first, last, dob, postal, created)
        if tables.get("support_tickets"):
            self._corrupt_requesters(tables["support_tickets"], persons.get("support", []))

    def _names(self, index: int, first: str, last: str, created: str, u: np.ndarray):
        marriage = self.marriages.get(index)
        if marriage and last and created < marriage.since:
            last = restyle(marriage.maiden, last)
        if u[0] < NAME_VARIANT:
            first = name_variant(first, u[1] < TRANSLITERATE)
            last = name_variant(last, u[1] < TRANSLITERATE)
        if u[2] < FIRST_NAME_TYPO:
            first = first_name_typo(first, u[3], u[4], u[5])
        return first, last

    def _corrupt_records(self, columns, persons, first, last, dob, postal, created) -> None:
        if len(persons) != len(columns[first]):
            raise RuntimeError(f"truth has {len(persons)} rows for {len(columns[first])} records")
        u = self.rng.random((len(persons), 12))
        for row, index in enumerate(persons):
            person = self.people[index]
            columns[first][row], columns[last][row] = self._names(
                index, columns[first][row], columns[last][row], columns[created][row], u[row]
            )
            columns[dob][row] = dob_slip(columns[dob][row], person, u[row, 6:11])
            code = columns[postal][row]
            if len(code) == 5 and code.startswith("0") and u[row, 11] < POSTAL_LOST_ZERO:
                columns[postal][row] = code[1:]

    def _corrupt_requesters(self, tickets: dict, persons: list[int]) -> None:
        if len(persons) != len(tickets["requester_name"]):
            raise RuntimeError(f"truth has {len(persons)} rows for the support tickets")
        u = self.rng.random((len(persons), 6))
        for row, index in enumerate(persons):
            name = tickets["requester_name"][row]
            full = REQUESTER.fullmatch(name)
            if full:
                lead, first, gap, last, trail = full.groups()
            else:  # just a first name
                (lead, first, trail), gap, last = _split_padding(name), "", ""
            first, last = self._names(index, first, last, tickets["created_at"][row], u[row])
            tickets["requester_name"][row] = f"{lead}{first}{gap}{last}{trail}"


def _texts(values) -> list:
    return values.to_pylist() if isinstance(values, pa.Array) else list(values)
