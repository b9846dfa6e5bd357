"""Russian bank details: a 20-digit account number's control key checked against the 9-digit BIC.

The Bank of Russia's rule: the account's 9th digit is a control key such that, over the 23 digits
"three digits from the BIC" + "the account", the sum of the last digits of digit * weight
(weights 7, 1, 3 repeating) ends in 0. The three BIC digits are its last three for an account at
a credit institution, or "0" + its 5th and 6th digits when the BIC belongs to a Bank of Russia
settlement centre (last three digits 000, 001 or 002).

Digits 6-8 of the account are the numeric ISO 4217 code of its currency (840 USD, 978 EUR),
except that rouble accounts keep the legacy code 810 (RUR) as well as 643 (RUB).
"""

from __future__ import annotations

import re

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

_WEIGHTS = (7, 1, 3) * 8
ACCOUNT_RE = re.compile(r"^[0-9]{20}$")  # ASCII only: \d takes any script\'s digits
BIC_RE = re.compile(r"^04[0-9]{7}$")


def _bic_part(bic: str) -> str:
    tail = bic[6:9]
    return "0" + bic[4:6] if tail in ("000", "001", "002") else tail


def _checksum(bic: str, account: str) -> int:
    digits = _bic_part(bic) + account
    return sum((int(d) * w) % 10 for d, w in zip(digits, _WEIGHTS, strict=False)) % 10


def account_matches_bic(account: str, bic: str) -> bool:
    """True when `account` is 20 digits, `bic` is a Russian BIC and the control key checks."""
    return bool(ACCOUNT_RE.match(account) and BIC_RE.match(bic)) and _checksum(bic, account) == 0


def account_currency_code(account: str) -> str:
    """The numeric currency code in digits 6-8 of a 20-digit account number."""
    return account[5:8]


def account_currency_matches(account: str, currency: str) -> bool:
    """True when the account's currency code (digits 6-8) is that of `currency` (ISO 4217 alpha-3);
    for RUB both 643 and the legacy 810."""
    code = account_currency_code(account)
    if currency == "RUB":
        return code in ("643", "810")
    known = pycountry.currencies.get(alpha_3=currency)
    return known is not None and known.numeric == code


def check_account_currency(account: str, currency: str) -> None:
    """ValueError (a validation message) unless the account is held in `currency`."""
    if not account_currency_matches(account, currency):
        raise ValueError(
            f"the recipient's account is in currency {account_currency_code(account)} (digits 6-8 of the "
            f"account number), not in the payment's currency {currency}"
        )


def with_control_key(account: str, bic: str) -> str:
    """The account with its 9th digit set to the right control key (for tests and examples)."""
    for key in "0123456789":
        candidate = account[:8] + key + account[9:]
        if _checksum(bic, candidate) == 0:
            return candidate
    raise ValueError("no control key fits")  # unreachable: weight 1 at the key digit covers 0..9


class BankRecipient(BaseModel):
    """A payout recipient as APIs accept it: validated account, BIC and name (camelCase on the wire)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    account_number: str = Field(
        pattern=r"^[0-9]{20}$",
        description="20-digit account number: digits 6-8 are its currency's numeric ISO 4217 code (810 or 643 "
        "for RUB) and must be the payment's; digit 9 is the control key against the BIC (Bank of Russia)",
        examples=["40817810700000000001"],
    )
    bank_bic: str = Field(pattern=r"^04[0-9]{7}$", description="9-digit BIC of the bank", examples=["044525225"])
    name: str = Field(
        min_length=1,
        max_length=160,
        description="Recipient's full name: not blank, printable characters only (runs of spaces become one)",
        examples=["Иван Петров"],
        json_schema_extra={"format": "person-name"},
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the recipient name must not be blank")
        if any(not ch.isprintable() for ch in value):
            raise ValueError("the recipient name has control characters")
        return value

    @model_validator(mode="after")
    def _control_key(self) -> BankRecipient:
        if not account_matches_bic(self.account_number, self.bank_bic):
            raise ValueError("the account number's control key does not match the BIC")
        return self
