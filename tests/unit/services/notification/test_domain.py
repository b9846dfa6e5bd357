"""Templates, money formatting and the retry schedule of notifications (pure rules)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paysaga.services.notification.domain import (
    NBSP,
    Language,
    Outcome,
    PaymentFacts,
    Status,
    failure_reason,
    format_amount,
    render,
    status_after_failure,
)

pytestmark = pytest.mark.unit

RU, EN = Language.RU, Language.EN
PAYMENT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def facts(outcome: Outcome, error_code: str | None = None, *, amount: int = 150_000) -> PaymentFacts:
    return PaymentFacts(
        payment_id=PAYMENT_ID,
        user_id="user-1",
        amount=amount,
        currency="RUB",
        recipient_name="Иван Петров",
        outcome=outcome,
        error_code=error_code,
        completed_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        (150_000, "RUB", RU, "1 500,00 ₽"),
        (150_000, "RUB", EN, "₽1,500.00"),
        (5, "RUB", RU, "0,05 ₽"),
        (123_456_789, "RUB", RU, "1 234 567,89 ₽"),
        (100, "USD", EN, "$1.00"),
        (99_999, "USD", RU, "999,99 $"),
        (1_500, "JPY", EN, "1,500 JPY"),
        (1_500, "JPY", RU, "1 500 JPY"),
        (1_234, "KWD", EN, "1.234 KWD"),
        (1_000_000, "CHF", RU, "10 000,00 CHF"),
    ],
)
def test_amounts_are_formatted_from_minor_units(amount: int, currency: str, language: Language, expected: str) -> None:
    # Russian separators are no-break spaces, so a phone never splits an amount across lines.
    assert format_amount(amount, currency, language) == expected.replace(" ", NBSP)


@given(st.integers(min_value=1, max_value=10**15))
def test_formatting_loses_no_digit(amount: int) -> None:
    ru = format_amount(amount, "RUB", RU)
    en = format_amount(amount, "RUB", EN)
    assert int("".join(c for c in ru if c.isdigit())) == amount
    assert int("".join(c for c in en if c.isdigit())) == amount
    assert ru.endswith(f"{NBSP}₽") and en.startswith("₽")


def test_completed_in_russian() -> None:
    message = render(facts(Outcome.COMPLETED), RU)
    assert message.title == "Перевод выполнен"
    assert message.text == (f"PaySaga: перевод 1{NBSP}500,00{NBSP}₽ получателю Иван Петров выполнен. Платёж 0f8fad5b.")


def test_completed_in_english() -> None:
    message = render(facts(Outcome.COMPLETED), EN)
    assert message.title == "Payment sent"
    assert message.text == "PaySaga: your payment of ₽1,500.00 to Иван Петров has been sent. Ref 0f8fad5b."


def test_failed_in_russian_says_why_and_that_the_money_is_back() -> None:
    message = render(facts(Outcome.FAILED, "PROVIDER_DECLINED"), RU)
    assert message.title == "Перевод не выполнен"
    assert message.text == (
        f"PaySaga: перевод 1{NBSP}500,00{NBSP}₽ получателю Иван Петров не выполнен: банк получателя отклонил "
        "перевод. Деньги снова доступны в кошельке. Платёж 0f8fad5b."
    )


def test_failed_in_english_says_why_and_that_the_money_is_back() -> None:
    message = render(facts(Outcome.FAILED, "TIMEOUT"), EN)
    assert message.title == "Payment failed"
    assert message.text == (
        "PaySaga: your payment of ₽1,500.00 to Иван Петров failed because the bank did not confirm it in time. "
        "The money is available in your wallet again. Ref 0f8fad5b."
    )


@pytest.mark.parametrize("language", list(Language))
def test_every_error_code_has_its_own_reason_in_every_language(language: Language) -> None:
    codes = ["FRAUD_SUSPECTED", "PROVIDER_REJECTED", "PROVIDER_DECLINED", "TIMEOUT"]
    reasons = [failure_reason(code, language) for code in codes]
    assert len(set(reasons)) == len(codes)
    unknown = failure_reason("SOMETHING_NEW", language)
    assert unknown not in reasons and unknown == failure_reason(None, language)
    for code, reason in zip(codes, reasons, strict=True):
        assert reason in render(facts(Outcome.FAILED, code), language).text


def test_a_completed_message_carries_no_failure_reason() -> None:
    text = render(facts(Outcome.COMPLETED), RU).text
    assert all(failure_reason(c, RU) not in text for c in ("TIMEOUT", "PROVIDER_DECLINED", None))


def test_a_payment_is_notified_only_once_both_halves_are_known() -> None:
    details_only = PaymentFacts(payment_id="p", user_id="u", amount=1, currency="RUB", recipient_name="A")
    outcome_only = PaymentFacts(payment_id="p", outcome=Outcome.COMPLETED)
    assert not details_only.ready and not outcome_only.ready
    assert facts(Outcome.COMPLETED).ready
    with pytest.raises(ValueError, match="not ready"):
        render(outcome_only, RU)


def test_attempts_run_out_at_max_attempts() -> None:
    assert [status_after_failure(n, 3) for n in (1, 2, 3, 4)] == [
        Status.PENDING,
        Status.PENDING,
        Status.FAILED,
        Status.FAILED,
    ]
