"""Email normalisation as staging does it (macros/standardise/emails.sql), in Python.

The subject-access export looks a person up by the identifiers staging stored, so it must
turn what the requester typed into the same display email and match key. A test checks
these functions against every email staging normalised in a built warehouse.
"""

from __future__ import annotations

import re

_EMAIL_SHAPE = re.compile(r"[^@ ]+@[^@ ]+[.][a-z]{2,}")
_WHITESPACE = re.compile(r"\s+")
_GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalize_email(raw: str | None) -> str | None:
    """Trimmed, whitespace-collapsed, lower-cased email; None unless shaped local@domain.tld."""
    if raw is None:
        return None
    cleaned = _WHITESPACE.sub(" ", raw).strip().lower()
    return cleaned if cleaned and _EMAIL_SHAPE.fullmatch(cleaned) else None


def email_match_key(email: str | None) -> str | None:
    """Linking key of a normalised email: +tag dropped, and dots too for Gmail."""
    if email is None:
        return None
    local_part, _, domain = email.partition("@")
    # dbt.split_part keeps what follows the second '@' out of the domain
    domain = domain.split("@", 1)[0]
    local_part = local_part.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        return local_part.replace(".", "") + "@gmail.com"
    return f"{local_part}@{domain}"
