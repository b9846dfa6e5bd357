import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from paysaga.contracts.banking import (
    BankRecipient,
    account_currency_matches,
    account_matches_bic,
    with_control_key,
)

pytestmark = pytest.mark.unit

BIC = "044525225"


def arabic(digits: str) -> str:
    """The same number in Arabic-Indic digits (U+0660..U+0669), which `int()` also reads."""
    return "".join(chr(0x0660 + int(d)) for d in digits)


@pytest.mark.parametrize(
    ("account", "bic"),
    [
        ("40702810938000000001", "044525225"),  # a client account at a credit institution
        ("30101810400000000225", "044525000"),  # settlement-centre rule: "0" + BIC digits 5-6
    ],
)
def test_known_good_pairs(account: str, bic: str) -> None:
    assert account_matches_bic(account, bic)


@given(st.text(alphabet="0123456789", min_size=20, max_size=20), st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_exactly_one_control_key_fits(account: str, bic_tail: str) -> None:
    bic = "04" + bic_tail
    good = with_control_key(account, bic)
    assert account_matches_bic(good, bic)
    others = [good[:8] + d + good[9:] for d in "0123456789" if d != good[8]]
    assert not any(account_matches_bic(o, bic) for o in others)


@given(st.integers(0, 19), st.integers(1, 9))
def test_a_changed_digit_outside_the_key_is_caught_unless_its_weight_hides_it(pos: int, delta: int) -> None:
    good = with_control_key("40817810000000000001", BIC)
    digit = (int(good[pos]) + delta) % 10
    changed = good[:pos] + str(digit) + good[pos + 1 :]
    weight = (7, 1, 3)[(pos + 3) % 3]
    assert account_matches_bic(changed, BIC) == ((delta * weight) % 10 == 0)


@pytest.mark.parametrize(
    "recipient",
    [
        {"accountNumber": "40817810000000000000", "bankBic": BIC, "name": "A"},  # wrong key
        {"accountNumber": "4081781070000000000", "bankBic": BIC, "name": "A"},  # 19 digits
        {"accountNumber": "40817810700000000001", "bankBic": "144525225", "name": "A"},  # not a Russian BIC
        {"accountNumber": "40817810700000000001", "bankBic": BIC, "name": "  "},
        {"accountNumber": "40817810700000000001", "bankBic": BIC, "name": "A\x00B"},
        # Digits of other scripts: int() reads them, so only the pattern can keep them out.
        {"accountNumber": arabic("40817810700000000001"), "bankBic": BIC, "name": "A"},
        {"accountNumber": "40817810700000000001", "bankBic": "04" + arabic("4525225"), "name": "A"},
    ],
)
def test_bad_recipients_are_refused(recipient: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        BankRecipient.model_validate(recipient)


def test_names_are_normalised() -> None:
    r = BankRecipient.model_validate(
        {"accountNumber": "40817810700000000001", "bankBic": BIC, "name": " Иван  Петров "}
    )
    assert r.name == "Иван Петров"


def test_the_checks_take_ascii_digits_only() -> None:
    assert not account_matches_bic(arabic("40817810700000000001"), BIC)
    assert not account_matches_bic("40817810700000000001", "04" + arabic("4525225"))


@pytest.mark.parametrize(
    ("account", "currency", "matches"),
    [
        ("40817810700000000001", "RUB", True),  # 810: the legacy rouble code
        ("40817643700000000001", "RUB", True),
        ("40817840700000000001", "USD", True),
        ("40817978700000000001", "EUR", True),
        ("40817840700000000001", "RUB", False),
        ("40817810700000000001", "USD", False),
        ("40817643700000000001", "EUR", False),
        ("40817978700000000001", "USD", False),
        ("40817000700000000001", "RUB", False),
    ],
)
def test_the_account_currency_code_is_digits_6_to_8(account: str, currency: str, matches: bool) -> None:
    assert account_currency_matches(account, currency) is matches
