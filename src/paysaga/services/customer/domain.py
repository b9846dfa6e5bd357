"""Customer rules: who may register, and with what password."""

from __future__ import annotations

import re

from paysaga.contracts.values import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_PATTERN


class WeakPassword(ValueError):
    pass


def normalize_email(email: str) -> str:
    """Emails are unique case-insensitively: `Ann@Example.org` and `ann@example.org` are one person."""
    return email.strip().lower()


def check_password_strength(password: str, *, email: str) -> None:
    """At least 10 characters with a letter and a digit, not built from the email's local part."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise WeakPassword(f"the password must have at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise WeakPassword(f"the password must have at most {PASSWORD_MAX_LENGTH} characters")
    if not re.match(PASSWORD_PATTERN, password):
        raise WeakPassword("the password must contain at least one letter and one digit")
    local = normalize_email(email).split("@", 1)[0]
    if len(local) >= 4 and local in password.lower():
        raise WeakPassword("the password must not contain the email address")
    if len(set(password)) < 5:
        raise WeakPassword("the password must not repeat a few characters")
