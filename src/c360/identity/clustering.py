"""Guarded clustering: pairs become customers without merging people who cannot be one.

Plain connected components at a threshold lets one wrong edge (a shared family email, a
twin's phone) chain two people, and then their households, into one customer. Here edges
are applied strongest first, and an edge is refused when the merge would put into one
customer records that contradict each other. A contradiction is not a typo: the guards
tell them apart by edit distance, by how common each spelling is, and by the evidence of
the other identifiers (see `GuardedClusters.refusal`):
- first names that are neither the same (canonical name, Jaro-Winkler >= 0.92) nor a
  typing error apart (one edit; two in a long name; one from a nickname of the other), or
  a typing error apart but both common names (Mary / Mark), or alike but each a name in
  its own right (twins Louis / Louise);
- dates of birth that are neither equal nor one typing error apart (one digit wrong, two
  adjacent digits transposed, day and month swapped), or a generation apart;
- a human cannot-link decision (seed identity_cannot_link), even through a chain;
- more records than `max_cluster_size`.
A stray value on one record (a replaced first name, a wrong date) is not evidence of two
people when everything else agrees; two spellings each carried by several records, or
their own emails or phones, are. Refusing the weakest edge that would create a
contradiction is what "splitting a cluster at its weakest links" means here. Must-link
decisions are applied first and unconditionally.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Two first names of one person spelled differently (Jenifer ~ Jennifer: 0.97) are at
# least this Jaro-Winkler-similar, the level Splink's first-name comparison uses;
# different people's names (Mark ~ Mary: 0.88) are below it.
NAME_SIMILARITY = 0.92
# One edit apart (Mark ~ Mrak) is a typo of the commoner spelling unless both are names in
# their own right: each seen on at least this many records, and the rarer at least this
# share as often as the commoner (a typo is rarer than its source by about its typo rate,
# a few percent; Mary and Mark are both common).
NAME_MIN_RECORDS = 3
NAME_MIN_SHARE = 0.1
# Names of at least this many letters may be two edits apart and still be one name: a
# record typed twice wrong, or each of two records carrying its own typo of the same name
# (Tohams ~ Thomas), the fuzziness search engines allow words this long. The commoner-
# spelling test above still applies, so two real names two edits apart (Johanna /
# Joanne) stay two names; shorter names have too few letters to spare two.
NAME_TWO_EDITS_MIN_LENGTH = 6
# The nickname table staging canonicalises first names with (Bob -> Robert): a typo of a
# nickname (Bvob) is not canonicalised there, and the guards need the table to see it.
NICKNAMES_SEED = Path(__file__).resolve().parents[3] / "seeds" / "nicknames.csv"
# Street names spelled alike (Splink's street comparison uses the same level).
STREET_SIMILARITY = 0.88
# Parent and child are at least this many years apart; a typing error that moves a date of
# birth further (1961 -> 1981) is indistinguishable from a generation and is not excused.
GENERATION_GAP_DAYS = int(15 * 365.25)
# Columns the guards read; only `person_record_id` is required, the others default to
# NULL (a source or a test without them).
GUARD_COLUMNS = [
    "person_record_id",
    "first_name_key",
    "first_name_canonical",
    "last_name_key",
    "birth_date",
    "email_key",
    "phone_e164",
    "postal_code_key",
    "street_key",
]


@lru_cache(maxsize=1 << 18)  # first names repeat: the same pairs come back many times
def jaro_winkler(a: str, b: str, duckdb: bool = False) -> float:
    """Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters).

    duckdb=True is DuckDB's jaro_winkler_similarity (rapidfuzz's), which Splink's levels
    use and resolve must reproduce: two empty strings score 0, transpositions count in
    whole pairs, and the prefix boost applies only above a Jaro of 0.7. The guards keep
    the textbook variant (duckdb=False) their name rules were measured with; the two
    differ on a few name pairs."""
    if duckdb and (not a or not b):
        return 0.0
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(0, max(len(a), len(b)) // 2 - 1)
    matched_b = [False] * len(b)
    matches_a = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not matched_b[j] and b[j] == char:
                matched_b[j] = True
                matches_a.append(char)
                break
    if not matches_a:
        return 0.0
    matches_b = [b[j] for j, hit in enumerate(matched_b) if hit]
    mismatched = sum(x != y for x, y in zip(matches_a, matches_b, strict=True))
    transpositions = mismatched // 2 if duckdb else mismatched / 2
    m = len(matches_a)
    jaro = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    if duckdb and jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


@lru_cache(maxsize=1 << 18)
def one_edit_apart(a: str, b: str) -> bool:
    """a and b differ by one substitution, insertion, deletion or adjacent transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


@lru_cache(maxsize=1 << 18)
def two_edits_apart(a: str, b: str) -> bool:
    """a and b differ by exactly two edits (substitutions, insertions, deletions, adjacent
    transpositions; optimal string alignment distance 2)."""
    if abs(len(a) - len(b)) > 2 or a == b or one_edit_apart(a, b):
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > 2:
            return False
        previous2, previous = previous, current
    return previous[-1] == 2


@lru_cache(maxsize=1)
def nicknames() -> dict[str, frozenset[str]]:
    """Formal first name -> its nicknames, from the nicknames seed (the table staging uses)."""
    if not NICKNAMES_SEED.exists():
        raise FileNotFoundError(
            f"nickname table {NICKNAMES_SEED} not found: the guards read the dbt seed "
            "`nicknames` to tell a typo of a nickname from another first name"
        )
    table: dict[str, set[str]] = {}
    with NICKNAMES_SEED.open(encoding="utf-8") as seed:
        header = seed.readline().strip().split(",")
        if header[:2] != ["nickname", "canonical_name"]:
            raise ValueError(
                f"{NICKNAMES_SEED}: expected the columns nickname,canonical_name, got {header}"
            )
        for line in seed:
            nickname, _, formal = line.strip().partition(",")
            if nickname and formal:
                table.setdefault(formal.strip().lower(), set()).add(nickname.strip().lower())
    return {formal: frozenset(nicks) for formal, nicks in table.items()}


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    return frozenset(nicknames()).union(*nicknames().values())


def _umlauts_folded(name: str) -> str:
    """A name with umlauts written out (Bjoern, as a keyboard without them spells Björn)
    as staging folds the umlaut itself (fold_accents: ö -> o): one spelling of one name."""
    return name.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def names_in_own_right(a: str, b: str, counts: dict[str, int]) -> bool:
    """a and b are two first names, not one name and its typo: both in the nickname table
    (two formal names or nicknames), or both common (each on NAME_MIN_RECORDS records, the
    rarer at least NAME_MIN_SHARE as often as the commoner). A typo is rare beside its
    source; Louis and Louise, Paul and Paula are each a name many people carry."""
    if a == b or _umlauts_folded(a) == _umlauts_folded(b):
        return False
    if a in _known_names() and b in _known_names():
        return True
    low, high = sorted((counts.get(a, 1), counts.get(b, 1)))
    return low >= max(NAME_MIN_RECORDS, NAME_MIN_SHARE * high)


def names_compatible(left: set[str], right: set[str], counts: dict[str, int] | None = None) -> bool:
    """Every first name of one side is plainly the same as every name of the other (same
    canonical name, or spellings Jaro-Winkler-similar that are not two names in their own
    right, as `name_relation` decides with the same counts): merging them needs no guard."""
    counts = counts or {}
    return all(
        a == b or (jaro_winkler(a, b) >= NAME_SIMILARITY and not names_in_own_right(a, b, counts))
        for a in left
        for b in right
    )


SAME, TYPO, DIFFERENT = 0, 1, 2


@dataclass(frozen=True)
class GuardRules:
    """The decisions the guards make, each of which can be switched off to measure what it
    is worth (c360.identity.decisions); builds use them all. Off, a typo or a stray value
    is a contradiction like any other and a safety rule does not apply."""

    typo_first_names: bool = True  # one edit apart (Mark ~ Mrrk) or swapped with the last name
    similar_names_differ: bool = True  # Jaro-Winkler-similar names in their own right (Louis /
    # Louise, twins) are two names; off, similar spelling is the same name
    two_edit_names: bool = True  # long names two edits apart (Saarah ~ Sarha), as typos
    nickname_typos: bool = True  # one edit from a nickname of the other name (Bvob ~ Robert)
    typo_date_at_address: bool = True  # a date typo with name and address agreeing, any contacts
    spelling_variants: bool = True  # a cluster's tied spellings of one name: the closest counts
    typo_birth_dates: bool = True  # one digit, two digits transposed, day and month swapped
    stray_values: bool = True  # a single different value when everything else agrees
    common_names_differ: bool = True  # one edit between two common names is two names
    own_contacts: bool = True  # their own emails or phones tell two people apart
    confirmed_values: bool = True  # a value carried by two records on each side is real
    generation_gap: bool = True  # dates a generation apart are never a typo


ALL_RULES = GuardRules()


def name_relation(
    a: tuple[str, str], b: tuple[str, str], counts: dict[str, int], rules: GuardRules = ALL_RULES
) -> int:
    """SAME, TYPO (one edit, and not two common names) or DIFFERENT, for two first names
    given as (name key, nickname-canonical name)."""
    (key_a, canonical_a), (key_b, canonical_b) = a, b
    if canonical_a == canonical_b:
        return SAME
    if jaro_winkler(key_a, key_b) >= NAME_SIMILARITY:
        # similar spellings are one name (Jenifer ~ Jennifer) unless each is a name many
        # people carry: boy and girl twins are Louis and Louise, Paul and Paula
        if rules.similar_names_differ and names_in_own_right(key_a, key_b, counts):
            return DIFFERENT
        return SAME
    if not rules.typo_first_names:
        return DIFFERENT
    for x, y in (
        (key_a, key_b),
        (canonical_a, canonical_b),
        (key_a, canonical_b),
        (canonical_a, key_b),
    ):
        if one_edit_apart(x, y) or (
            rules.two_edit_names
            and min(len(x), len(y)) >= NAME_TWO_EDITS_MIN_LENGTH
            and two_edits_apart(x, y)
        ):
            low, high = sorted((counts.get(x, 1), counts.get(y, 1)))
            if not rules.common_names_differ or low < max(NAME_MIN_RECORDS, NAME_MIN_SHARE * high):
                return TYPO
    if rules.nickname_typos:
        # a typo of the other's nickname (Bvob, Trihs): only a spelling that is no name
        # (not in the nickname table, and rare beside the nickname, as above), so two
        # names one letter apart (Dan for Daniel, Don for Donald) stay two people
        for key, (_, other) in ((key_a, b), (key_b, a)):
            if key in _known_names():
                continue
            for nick in nicknames().get(other, ()):
                if one_edit_apart(key, nick) and counts.get(key, 1) < max(
                    NAME_MIN_RECORDS, NAME_MIN_SHARE * counts.get(nick, 1)
                ):
                    return TYPO
    return DIFFERENT


def birth_date_relation(a, b, rules: GuardRules = ALL_RULES) -> int:
    """SAME, TYPO (one digit, two adjacent digits transposed, or day and month swapped,
    less than a generation apart) or DIFFERENT."""
    if a == b:
        return SAME
    if not rules.typo_birth_dates:
        return DIFFERENT
    if rules.generation_gap and abs((a - b).days) >= GENERATION_GAP_DAYS:
        return DIFFERENT
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return TYPO
    return TYPO if one_edit_apart(a.strftime("%Y%m%d"), b.strftime("%Y%m%d")) else DIFFERENT


@dataclass(slots=True)
class Cluster:
    members: list[str]
    birth_dates: Counter = field(default_factory=Counter)
    first_names: Counter = field(default_factory=Counter)  # (key, canonical) -> records
    last_names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    postal_codes: set[str] = field(default_factory=set)
    streets: set[str] = field(default_factory=set)
    cannot_link: set[str] = field(default_factory=set)


@dataclass
class Decisions:
    """What clustering did, for the quality report."""

    accepted: int = 0
    refused_birth_date: int = 0
    refused_first_name: int = 0
    refused_cannot_link: int = 0
    refused_size: int = 0


def _modal(values: Counter) -> list[tuple]:
    """The values carried by the most records (all of them on a tie), with their counts.
    A stray value a cluster absorbed (a typo, a replaced name) is not what it is compared
    by afterwards: the person's own value is the one most of its records carry."""
    if len(values) < 2:
        return list(values.items())
    top = max(values.values())
    return [(value, count) for value, count in values.items() if count == top]


class GuardedClusters:
    """Union-find whose unions check the guards above."""

    def __init__(
        self,
        records: pa.Table,
        cannot_link: list[tuple[str, str]],
        max_cluster_size: int,
        name_counts: dict[str, int] | None = None,
        rules: GuardRules = ALL_RULES,
    ) -> None:
        self.parent: dict[str, str] = {}
        self.clusters: dict[str, Cluster] = {}
        self.max_cluster_size = max_cluster_size
        self.decisions = Decisions()
        self.name_counts = name_counts or {}
        self.rules = rules
        self.refused: dict[tuple[str, str], tuple[str, tuple[int, int]]] = {}
        columns = {c: _column(records, c) for c in GUARD_COLUMNS}
        for record_id, key, name, last, birth, email, phone, postal, street in zip(
            *columns.values(), strict=True
        ):
            self.parent[record_id] = record_id
            self.clusters[record_id] = Cluster(
                members=[record_id],
                birth_dates=Counter([birth]) if birth is not None else Counter(),
                first_names=Counter([(key or name, name)]) if name else Counter(),
                last_names={last} if last else set(),
                emails={email} if email else set(),
                phones={phone} if phone else set(),
                postal_codes={postal} if postal else set(),
                streets={street} if street else set(),
            )
        for a, b in cannot_link:
            if a in self.clusters and b in self.clusters:
                self.clusters[a].cannot_link.add(b)
                self.clusters[b].cannot_link.add(a)

    def find(self, record_id: str) -> str:
        root = record_id
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[record_id] != root:  # path compression
            self.parent[record_id], record_id = root, self.parent[record_id]
        return root

    def _name_relation(self, x: tuple[str, str], y: tuple[str, str], a: Cluster, b: Cluster) -> int:
        relation = name_relation(x, y, self.name_counts, self.rules)
        if (
            relation != SAME
            and self.rules.typo_first_names
            and (x[0] in b.last_names or y[0] in a.last_names)
        ):
            relation = TYPO  # first and last name swapped on one record
        return relation

    def _spellings(self, cluster: Cluster) -> tuple[list[tuple], bool]:
        """The cluster's modal first names, and whether they are spellings of one name:
        more than one, each the same as or a typo of another, all linked (Paul and Payl on
        one record each; James, Jamse and Jaames, Jamse two edits from Jaames). Linked,
        not pairwise: the build merges a cluster record by record and the online resolve
        compares with all of it at once, and both must find the same spellings."""
        modal = _modal(cluster.first_names)
        if not self.rules.spelling_variants or len(modal) < 2:
            return modal, False
        linked, frontier = {0}, [0]
        while frontier:
            i = frontier.pop()
            for j, (y, _) in enumerate(modal):
                if j not in linked and (
                    self._name_relation(modal[i][0], y, cluster, cluster) != DIFFERENT
                ):
                    linked.add(j)
                    frontier.append(j)
        return modal, len(linked) == len(modal)

    def _names(self, a: Cluster, b: Cluster) -> tuple[int, bool]:
        """First-name relation between a and b, and whether the difference is real: some
        DIFFERENT pair is carried by two or more records on each side (two confirmed names),
        or is two similar names in their own right (Louis / Louise: a replaced name is
        hardly ever so close to the one it replaced, twins' names often are). Each modal
        name of a side counts (the worst relation), except that a side whose modal names
        are spellings of one name is matched by its closest spelling: a third record spelled
        Palu is a typo of Paul even though it is two edits from Payl."""
        if not a.first_names or not b.first_names:
            return SAME, False
        (modal_a, variants_a), (modal_b, variants_b) = self._spellings(a), self._spellings(b)
        relations = [[self._name_relation(x, y, a, b) for y, _ in modal_b] for x, _ in modal_a]
        per_x = [min(row) if variants_b else max(row) for row in relations]
        worst = min(per_x) if variants_a else max(per_x)
        confirmed = self.rules.confirmed_values and any(
            relation == DIFFERENT and x_records >= 2 and y_records >= 2
            for (_, x_records), row in zip(modal_a, relations, strict=True)
            for (_, y_records), relation in zip(modal_b, row, strict=True)
        )
        twins = (
            worst == DIFFERENT
            and self.rules.similar_names_differ
            and any(
                relation == DIFFERENT and jaro_winkler(x[0], y[0]) >= NAME_SIMILARITY
                for (x, _), row in zip(modal_a, relations, strict=True)
                for (y, _), relation in zip(modal_b, row, strict=True)
            )
        )
        return worst, confirmed or twins

    def _birth_dates(self, a: Cluster, b: Cluster) -> tuple[int, bool]:
        worst, confirmed = SAME, False
        for x, x_records in _modal(a.birth_dates):
            for y, y_records in _modal(b.birth_dates):
                relation = birth_date_relation(x, y, self.rules)
                if (
                    relation == DIFFERENT
                    and self.rules.confirmed_values
                    and x_records >= 2
                    and y_records >= 2
                ):
                    confirmed = True
                worst = max(worst, relation)
        return worst, confirmed

    def refusal(self, a: Cluster, b: Cluster) -> str | None:
        """Why a and b must stay apart, or None.

        A typo is forgiven when the other identifiers agree; a different value (first name
        or date of birth) only when it is the one difference: carried by a single record,
        with every other identifier that either side carries carried by both and agreeing.

        | first names | dates of birth | merged when |
        |---|---|---|
        | same | same | always |
        | one typo | same | unless each side has its own email or phone and they share none |
        | same | one typo | they share an address or a contact |
        | one typo | one typo | as for a name typo, and they share an address or a contact |
        | different | same | it is the one difference (above) |
        | same or one typo | different | it is the one difference (above) |
        | different | one typo or different | never: two identifiers disagree (a spouse
          born a year or two apart) |
        """
        if (a.cannot_link and not a.cannot_link.isdisjoint(b.members)) or (
            b.cannot_link and not b.cannot_link.isdisjoint(a.members)
        ):
            return "cannot_link"
        names, names_confirmed = self._names(a, b)
        births, births_confirmed = self._birth_dates(a, b)
        if names != SAME or births != SAME:
            shared_contact = not a.emails.isdisjoint(b.emails) or not a.phones.isdisjoint(b.phones)
            own_contacts = self.rules.own_contacts and (
                (a.emails and b.emails and a.emails.isdisjoint(b.emails))
                or (a.phones and b.phones and a.phones.isdisjoint(b.phones))
            )
            if names == TYPO and own_contacts and not shared_contact:
                return "first_name"
            if names == DIFFERENT and (
                not self.rules.stray_values
                or births != SAME
                or not (a.birth_dates and b.birth_dates)
                or names_confirmed
                or not _all_else_agrees(a, b, self.rules.own_contacts)
            ):
                return "first_name"
            if births == TYPO and (
                not (shared_contact or _near_address(a, b))
                or (
                    own_contacts
                    and not shared_contact
                    # the same first name at the same address: a date typed wrong on a
                    # record that carries another email or phone of the same person
                    and not (
                        names == SAME and self.rules.typo_date_at_address and _near_address(a, b)
                    )
                )
            ):
                return "birth_date"
            if births == DIFFERENT and (
                not self.rules.stray_values
                or names == DIFFERENT
                or not (a.first_names and b.first_names)
                or births_confirmed
                or not _all_else_agrees(a, b, self.rules.own_contacts)
            ):
                return "birth_date"
        if len(a.members) + len(b.members) > self.max_cluster_size:
            return "size"
        return None

    def union(self, left: str, right: str, guarded: bool = True) -> bool:
        root_l, root_r = self.find(left), self.find(right)
        if root_l == root_r:
            return True
        a, b = self.clusters[root_l], self.clusters[root_r]
        if guarded:
            # the same two clusters meet again through another edge (a household's records
            # are all scored against each other): a cluster changes only by growing, so
            # the answer for the same sizes is the one already given
            key = (root_l, root_r) if root_l < root_r else (root_r, root_l)
            sizes = (
                (len(a.members), len(b.members))
                if root_l < root_r
                else (len(b.members), len(a.members))
            )
            known = self.refused.get(key)
            if known is not None and known[1] == sizes:
                reason = known[0]
            else:
                reason = self.refusal(a, b)
                if reason:
                    self.refused[key] = (reason, sizes)
            if reason:
                setattr(
                    self.decisions,
                    f"refused_{reason}",
                    getattr(self.decisions, f"refused_{reason}") + 1,
                )
                return False
        if len(a.members) < len(b.members):  # keep the larger cluster's root
            root_l, root_r, a, b = root_r, root_l, b, a
        self.parent[root_r] = root_l
        a.members.extend(b.members)
        a.birth_dates.update(b.birth_dates)
        a.first_names.update(b.first_names)
        a.last_names |= b.last_names
        a.emails |= b.emails
        a.phones |= b.phones
        a.postal_codes |= b.postal_codes
        a.streets |= b.streets
        a.cannot_link |= b.cannot_link
        del self.clusters[root_r]
        self.decisions.accepted += 1
        return True


def _same_last_name(a: Cluster, b: Cluster) -> bool:
    """a and b share a last name, one typo allowed, or one of them has none."""
    if not a.last_names or not b.last_names:
        return True
    return any(x == y or one_edit_apart(x, y) for x in a.last_names for y in b.last_names)


def _all_else_agrees(a: Cluster, b: Cluster, contacts: bool = True) -> bool:
    """The identifiers besides first name and date of birth vouch for one person: the last
    name agrees (one typo allowed), the address is near (postal code or street, typos
    allowed), and every email or phone either side carries is carried by both and shared.
    A household shares its last name and address, and often a phone or an email, but each
    member's own contact is missing on the other's side; a stray first name or date on a
    record of one person is not."""
    if not _same_last_name(a, b) or not _near_address(a, b):
        return False
    return not contacts or all(
        not (x or y) or not x.isdisjoint(y) for x, y in ((a.emails, b.emails), (a.phones, b.phones))
    )


def _near_street(left: set[str], right: set[str]) -> bool:
    """The same street key, or the same house number on streets spelled alike."""
    for x in left:
        number_x, _, name_x = x.partition(" ")
        for y in right:
            if x == y:
                return True
            number_y, _, name_y = y.partition(" ")
            if (
                number_x == number_y
                and number_x[:1].isdigit()
                and jaro_winkler(name_x, name_y) >= STREET_SIMILARITY
            ):
                return True
    return False


def _near_address(a: Cluster, b: Cluster) -> bool:
    """a and b share an address, typos allowed: postal codes one edit apart, or the same
    house number on streets spelled alike."""
    if any(x == y or one_edit_apart(x, y) for x in a.postal_codes for y in b.postal_codes):
        return True
    return _near_street(a.streets, b.streets)


def _column(records: pa.Table, name: str) -> list:
    if name in records.column_names:
        return records.column(name).to_pylist()
    return [None] * records.num_rows


def customer_id_for(members: list[str]) -> str:
    """Stable id: a hash of the cluster's smallest record key (survives unrelated changes)."""
    return _customer_id_of_key(min(members))


def _customer_id_of_key(smallest_key: str) -> str:
    return "cus_" + hashlib.sha256(smallest_key.encode()).hexdigest()[:16]


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label (its smallest member's index) of each of n nodes joined by edges.

    Vectorised union-find: hook every edge's two roots onto the smaller one, then jump
    pointers until each node points at its root; repeat until no edge spans two roots.
    """
    label = np.arange(n, dtype=np.int64)
    while left.size:
        low = np.minimum(label[left], label[right])
        np.minimum.at(label, label[left], low)
        np.minimum.at(label, label[right], low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label[left], label[right]):
            break
    return label


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def _components_needing_guards(
    component: np.ndarray,
    records: pa.Table,
    max_cluster_size: int,
    flagged: np.ndarray,
    name_counts: dict[str, int] | None = None,
) -> np.ndarray:
    """Boolean per component label: could any merge inside it be refused?

    A component whose records hold at most one birth date, only mutually compatible first
    names, no cannot-link or must-link record and no more than max_cluster_size records
    passes every guard on every merge, so its guarded result is its connected component.
    """
    n = component.size
    size = np.bincount(component, minlength=n)
    needs = size > max_cluster_size
    needs[component[flagged]] = True
    multi = size[component] > 1  # singletons never merge

    births = records.column("birth_date")
    birth_valid = multi & ~np.asarray(pc.is_null(births).to_numpy(zero_copy_only=False), bool)
    if birth_valid.any():
        days = pc.cast(births, pa.int32()).to_numpy(zero_copy_only=False)
        keys = _sorted_unique(
            (component[birth_valid].astype(np.int64) << 32)
            + (days[birth_valid].astype(np.int64) + (1 << 31))  # days before 1970 are negative
        )
        counts = np.bincount(keys >> 32, minlength=n)
        needs |= counts > 1

    first_names = records.column("first_name_canonical").combine_chunks()
    names = pc.if_else(pc.equal(first_names, ""), pa.scalar(None, pa.string()), first_names)
    encoded = pc.dictionary_encode(names)
    name_index = encoded.indices.to_numpy(zero_copy_only=False)
    name_valid = multi & ~np.asarray(pc.is_null(encoded.indices).to_numpy(zero_copy_only=False))
    if name_valid.any():
        keys = _sorted_unique(
            (component[name_valid].astype(np.int64) << 32) + name_index[name_valid].astype(np.int64)
        )
        owners = keys >> 32
        several = np.flatnonzero(np.bincount(owners, minlength=n) > 1)
        several = several[~needs[several]]
        if several.size:
            vocabulary = encoded.dictionary.to_pylist()
            # the counts the guarded pass will use: similar names both common are two names
            counts = _name_counts(records, records) if name_counts is None else name_counts
            starts = np.searchsorted(owners, several)
            ends = np.searchsorted(owners, several, side="right")
            for label, start, end in zip(several, starts, ends, strict=True):
                group = {vocabulary[i] for i in (keys[start:end] & 0xFFFFFFFF)}
                if not names_compatible(group, group, counts):
                    needs[label] = True
    return needs


def _apply_edges(
    clusters: GuardedClusters, edges: pa.Table, guarded: bool, confidence: dict[str, float]
) -> None:
    """Edges strongest first (ties by record keys, so any input order gives one result)."""
    ordered = edges.sort_by(
        [
            ("match_probability", "descending"),
            ("person_record_id_l", "ascending"),
            ("person_record_id_r", "ascending"),
        ]
    )
    for probability, left, right in zip(
        ordered.column("match_probability").to_pylist(),
        ordered.column("person_record_id_l").to_pylist(),
        ordered.column("person_record_id_r").to_pylist(),
        strict=True,
    ):
        if clusters.union(left, right, guarded=guarded):
            for record_id in (left, right):
                confidence[record_id] = max(confidence.get(record_id, 0.0), probability)


def _name_counts(records: pa.Table, subset: pa.Table) -> dict[str, int]:
    """Records carrying each first name (key or canonical) of `subset`, over every record."""
    counts: Counter = Counter()
    columns = [c for c in ("first_name_key", "first_name_canonical") if c in records.column_names]
    wanted = {name for c in columns for name in subset.column(c).to_pylist()}
    # the nicknames of the names present: how common a nickname is tells a typo of it (a
    # nickname is a key, never a canonical name: looked up in both columns)
    wanted.update(*(nicknames().get(name, ()) for name in list(wanted) if name))
    for column in columns:
        found = pc.value_counts(records.column(column).combine_chunks())
        for value, count in zip(
            found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True
        ):
            if value in wanted:
                counts[value] = max(counts[value], count)
    return dict(counts)


@contextmanager
def _no_cyclic_gc():
    """Python's cyclic garbage collector paused: the guarded pass creates a few objects per
    record (clusters, their sets and lists) and nothing here makes a reference cycle, yet
    the collector kept rescanning them all, about three times the cost of the set-up
    itself at a million persons. Memory is still freed as soon as it is unreferenced."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_no_cyclic_gc()
def cluster_records(
    records: pa.Table,
    pairs: pa.Table,
    threshold: float,
    max_cluster_size: int = 50,
    must_link: list[tuple[str, str]] = (),
    cannot_link: list[tuple[str, str]] = (),
    guarded: bool = True,
    split_components: bool = True,
    rules: GuardRules = ALL_RULES,
    name_counts: dict[str, int] | None = None,
) -> tuple[pa.Table, Decisions]:
    """customer_id and confidence for every record, and counts of the guard decisions.

    pairs: person_record_id_l, person_record_id_r, match_probability (deterministic
    edges carry probability 1), optionally is_contradictory (such pairs are skipped when
    guarded). guarded=False is plain connected components at the threshold, kept to
    measure what the guards are worth.

    Edges at or above the threshold first form connected components (vectorised). Only
    components where some guard could refuse a merge go through the edge-by-edge guarded
    union-find; the others are their connected component, which is exactly what the
    guarded pass would give them, at a fraction of the cost. split_components=False sends
    every record through the guarded pass (the reference the fast path is tested against).
    name_counts: records per first name for the typo guard, frozen by the caller so that
    clustering a part of the records decides as over all of them (default: counted over
    `records`).
    """
    # records in key order: a record's position is its rank, which the customer id needs
    # (the smallest key of its cluster), and the result comes out sorted without a second
    # sort. Already sorted input (the dbt model asks DuckDB for it) is not sorted again.
    ids = records.column("person_record_id").combine_chunks()
    if len(ids) > 1 and not pc.all(pc.less_equal(ids[:-1], ids[1:])).as_py():
        records = records.take(pc.sort_indices(ids))
        ids = records.column("person_record_id").combine_chunks()
    n = len(ids)
    probability = pc.cast(pairs.column("match_probability"), pa.float64())
    keep = pc.greater_equal(probability, threshold)
    if guarded and "is_contradictory" in pairs.column_names:
        # first names and dates of birth both differ: the guards refuse such a pair in every
        # case, and at scale most of them are a household's members (scoring.py)
        keep = pc.and_(keep, pc.invert(pc.fill_null(pairs.column("is_contradictory"), False)))
    strong = pa.table(
        {
            "person_record_id_l": pairs.column("person_record_id_l"),
            "person_record_id_r": pairs.column("person_record_id_r"),
            "match_probability": probability,
        }
    ).filter(keep)
    # both ends looked up in one pass: index_in builds its hash table of ids per call
    ends = pc.index_in(
        pa.chunked_array(
            strong.column("person_record_id_l").chunks + strong.column("person_record_id_r").chunks,
            strong.schema.field("person_record_id_l").type,
        ),
        value_set=ids,
    ).combine_chunks()
    left, right = ends[: strong.num_rows], ends[strong.num_rows :]
    # an edge to a record that is not a person record (an orphan id) is ignored
    known = pc.and_(pc.is_valid(left), pc.is_valid(right))
    strong = strong.filter(known)
    left = left.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)
    right = right.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)

    known_ids = set(ids.to_pylist()) if (must_link or cannot_link) else set()
    must = [(a, b) for a, b in must_link if a in known_ids and b in known_ids]
    cannot = [(a, b) for a, b in cannot_link if a in known_ids and b in known_ids]
    position = {}
    if must or cannot:
        wanted = {r for pair in must + cannot for r in pair}
        position = {r: i for i, r in enumerate(ids.to_pylist()) if r in wanted}
    must_left = np.array([position[a] for a, _ in must], np.int64)
    must_right = np.array([position[b] for _, b in must], np.int64)

    component = connected_components(
        n, np.concatenate([left, must_left]), np.concatenate([right, must_right])
    )
    if not split_components:
        needs = np.ones(n, bool)
    elif guarded:
        flagged = np.zeros(n, bool)
        flagged[must_left] = flagged[must_right] = True
        flagged[[position[r] for pair in cannot for r in pair]] = True
        needs = _components_needing_guards(
            component, records, max_cluster_size, flagged, name_counts
        )
    else:
        needs = np.zeros(n, bool)
    slow = needs[component]

    # fast path: connected components, confidence = strongest edge a record takes part in
    fast_components = np.count_nonzero(np.bincount(component[~slow], minlength=n))
    decisions = Decisions(accepted=int(np.count_nonzero(~slow) - fast_components))
    confidence = np.full(n, -np.inf)
    edge_probability = strong.column("match_probability").to_numpy()
    np.maximum.at(confidence, left, edge_probability)
    np.maximum.at(confidence, right, edge_probability)
    confidence[np.isneginf(confidence)] = 1.0  # a singleton is certainly its own customer
    # customer id: hash of each component's smallest record key; records are in key order,
    # so that is the component's label (connected_components labels by smallest index)
    labels = np.flatnonzero(np.bincount(component, minlength=n))
    smallest = ids.take(pa.array(labels)).to_pylist()
    customer_of = np.empty(n, dtype=object)
    customer_of[labels] = [_customer_id_of_key(record_id) for record_id in smallest]
    customer = customer_of[component]

    # guarded path: edge by edge, only where a guard may refuse
    slow_index = np.flatnonzero(slow)
    if slow_index.size:
        subset = records.take(pa.array(slow_index))
        clusters = GuardedClusters(
            subset,
            cannot,
            max_cluster_size,
            _name_counts(records, subset) if name_counts is None else name_counts,
            rules,
        )
        for a, b in must:
            clusters.union(a, b, guarded=False)
        guarded_confidence: dict[str, float] = {}
        edge_slow = slow[left]
        _apply_edges(clusters, strong.filter(pa.array(edge_slow)), guarded, guarded_confidence)
        local = {
            record_id: i
            for i, record_id in enumerate(subset.column("person_record_id").to_pylist())
        }
        for cluster in clusters.clusters.values():
            customer_id = customer_id_for(cluster.members)
            for record_id in cluster.members:
                i = slow_index[local[record_id]]
                customer[i] = customer_id
                # a must-link member merged without a scored edge is certain too
                confidence[i] = guarded_confidence.get(record_id, 1.0)
        slow_decisions = clusters.decisions
        decisions.accepted += slow_decisions.accepted
        decisions.refused_birth_date = slow_decisions.refused_birth_date
        decisions.refused_first_name = slow_decisions.refused_first_name
        decisions.refused_cannot_link = slow_decisions.refused_cannot_link
        decisions.refused_size = slow_decisions.refused_size

    table = pa.table(
        {
            "person_record_id": ids,
            "customer_id": pa.array(customer.tolist(), pa.string()),
            "cluster_confidence": pa.array(confidence, pa.float64()),
        }
    )
    return table, decisions
