"""Settings helpers the dbt Python models share. Kept free of heavy imports: every model
that reads a flag imports this module, and the identity step must not load the churn
classifier's libraries to read one."""

from __future__ import annotations


def parse_flag(var: str, value: object) -> bool:
    """A true/false setting (a bool or its text); ValueError naming `var` otherwise."""
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no", ""}:
        return False
    raise ValueError(f"{var} must be true or false, got {value!r}")
