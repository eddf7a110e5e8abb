"""Privacy: subject-access export and the identifier normalisation it shares with staging."""

from c360.privacy.identifiers import email_match_key, normalize_email

__all__ = ["email_match_key", "normalize_email"]
