"""Value types that appear in more than one contract."""

import re
import unicodedata
from typing import Annotated

import pycountry
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic_extra_types.phone_numbers import PhoneNumber


def _iso_8601(value: object) -> object:
    """A date-time parameter is ISO 8601 text (`2026-12-03T01:00:00Z`): pydantic would also read
    "0.5" as a Unix time, which the documents do not allow."""
    if isinstance(value, str) and not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]", value):
        raise ValueError("expected an ISO 8601 date-time with its offset, e.g. 2026-12-03T01:00:00Z")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
"""A date-time with its offset, as ISO 8601 text (OpenAPI `format: date-time`)."""

# A payment older than this (a year) is not "stuck": the stuck-payments queries (Payment, Wallet,
# Ops) take at most this.
MAX_STUCK_AGE_SECONDS = 365 * 86400

# PostgreSQL's bigint: the largest id a path may name.
MAX_BIGINT = 2**63 - 1

# A UUID in its canonical text form: what `uuid.UUID` reads from an id field that is a string.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# ISO 4217 codes that are not money a wallet can hold: precious metals, bond-market units of
# account, the SDR and other supranational units (XAD: the Arab accounting dinar), the testing
# code and "no currency".
NOT_MONEY = frozenset(
    {"XAD", "XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
)


# Every code a wallet or a payment may be in: what `Currency` accepts and what the OpenAPI documents list.
CURRENCY_CODES = tuple(sorted(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in NOT_MONEY))
_CURRENCIES = frozenset(CURRENCY_CODES)


def _iso_4217(code: str) -> str:
    if code in NOT_MONEY:
        raise ValueError(f"{code!r} is an ISO 4217 code but not a currency (metal, unit of account or test code)")
    if code not in _CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 alphabetic code",
        examples=["RUB"],
        json_schema_extra={"enum": list(CURRENCY_CODES)},
    ),
    AfterValidator(_iso_4217),
]
"""An ISO 4217 alphabetic currency code, upper case (RUB, USD, ...)."""


def _integral(value: object) -> object:
    """JSON Schema's `integer` includes 670.0: such a number is the integer; 670.5, "670" and true stay
    invalid (the field is strict)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInteger = BeforeValidator(_integral)
"""For a strict `int` field: what JSON Schema calls an integer, and nothing else."""

MinorUnits = Annotated[
    int, Field(strict=True, gt=0, description="Amount in minor units of the currency (kopecks for RUB)"), JsonInteger
]


# Control characters (NUL, BEL, newlines, ...), line and paragraph separators, lone surrogates
# (not encodable), private-use and unassigned code points: never part of a person's name.
_NOT_IN_NAMES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})


def _printable_name(value: str) -> str:
    if not value.strip():
        raise ValueError("the name must not be blank")
    bad = next((ch for ch in value if unicodedata.category(ch) in _NOT_IN_NAMES), None)
    if bad is not None:
        raise ValueError(f"the name has a control or unassigned character (U+{ord(bad):04X})")
    return value


PersonName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        examples=["Анна Иванова"],
        description="Not blank; no control, separator-line, private-use or unassigned characters",
        json_schema_extra={"format": "person-name"},
    ),
    AfterValidator(_printable_name),
]
"""A person's name as given: any script's letters, spaces, hyphens, apostrophes; no control characters."""


# The customers' password policy (Customer's `check_password_strength` applies all of it; the
# BFF's schema states what a JSON Schema can: the lengths, a letter and a digit).
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
PASSWORD_PATTERN = r"^(?=[\s\S]*[^\W\d_])(?=[\s\S]*\d)"  # a letter (any script) and a digit
PASSWORD_RULES = (
    f"{PASSWORD_MIN_LENGTH}-{PASSWORD_MAX_LENGTH} characters with a letter and a digit, at least 5 different "
    "characters, not containing the email's local part"
)
NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        pattern=PASSWORD_PATTERN,
        description=PASSWORD_RULES + " (the last two are checked on registration: 422 `weak-password`)",
    ),
]
"""A new customer's password, as far as a schema states it (its model needs `regex_engine="python-re"`:
the pattern looks ahead)."""


class PhoneE164(PhoneNumber):
    """A phone number that exists in its country's numbering plan (`phonenumbers`), answered in E.164.
    OpenAPI: a string of format `phone`."""

    phone_format = "E164"
