"""Value types that appear in more than one contract."""

import unicodedata
from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field

# ISO 4217 codes that are not money a wallet can hold: precious metals, bond-market units of
# account, the SDR and other supranational units (XAD: the Arab accounting dinar), the testing
# code and "no currency".
NOT_MONEY = frozenset(
    {"XAD", "XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
)


def _iso_4217(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    if code in NOT_MONEY:
        raise ValueError(f"{code!r} is an ISO 4217 code but not a currency (metal, unit of account or test code)")
    return code


Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 alphabetic code", examples=["RUB"]),
    AfterValidator(_iso_4217),
]
"""An ISO 4217 alphabetic currency code, upper case (RUB, USD, ...)."""

MinorUnits = Annotated[
    int, Field(strict=True, gt=0, description="Amount in minor units of the currency (kopecks for RUB)")
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
    Field(min_length=1, max_length=200, examples=["Анна Иванова"]),
    AfterValidator(_printable_name),
]
"""A person's name as given: any script's letters, spaces, hyphens, apostrophes; no control characters."""
