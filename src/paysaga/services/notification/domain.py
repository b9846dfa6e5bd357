"""Pure rules of the Notification service: channels, statuses, templates, money formatting, backoff.

A notification is a message to one customer on one channel about one payment's outcome; there is
at most one per (payment, channel). It is written PENDING by the consumer and delivered by the
dispatcher: SENT once a gateway accepted it, FAILED after `max_attempts` failed attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    SMS = "SMS"
    PUSH = "PUSH"


class Status(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class Outcome(StrEnum):
    """How a payment ended: the event types this service notifies about."""

    COMPLETED = "PaymentCompleted"
    FAILED = "PaymentFailed"


class Language(StrEnum):
    RU = "ru"
    EN = "en"


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What the service knows of a payment, gathered from its events in whatever order they came:
    the details from PaymentInitiated, the outcome from PaymentCompleted/PaymentFailed."""

    payment_id: str
    user_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    recipient_name: str | None = None
    outcome: Outcome | None = None
    error_code: str | None = None
    completed_at: datetime | None = None

    @property
    def ready(self) -> bool:
        """Both halves are known: the customer can be told."""
        return self.user_id is not None and self.amount is not None and self.outcome is not None


@dataclass(frozen=True, slots=True)
class Message:
    """What a gateway delivers: push shows the title, SMS only the text."""

    title: str
    text: str


# --- money --------------------------------------------------------------------------------------

# fmt: off
_ZERO_DECIMALS = frozenset({
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
    "XPF",
})
# fmt: on
_THREE_DECIMALS = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "KZT": "₸"}
NBSP = "\u00a0"  # between thousands and before the currency sign: a phone never breaks the amount


def minor_unit_digits(currency: str) -> int:
    """ISO 4217 exponent: 2 for most currencies (kopecks, cents), 0 for JPY, 3 for KWD, ..."""
    if currency in _ZERO_DECIMALS:
        return 0
    if currency in _THREE_DECIMALS:
        return 3
    return 2


def format_amount(amount: int, currency: str, language: Language) -> str:
    """Minor units as a customer reads them: ru `1 500,00 ₽`, en `₽1,500.00` (code for unknown signs)."""
    digits = minor_unit_digits(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    grouped = f"{whole:,}"
    symbol = _SYMBOLS.get(currency)
    if language is Language.RU:
        number = grouped.replace(",", NBSP) + (f",{fraction:0{digits}d}" if digits else "")
        return f"{sign}{number}{NBSP}{symbol or currency}"
    number = grouped + (f".{fraction:0{digits}d}" if digits else "")
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number}{NBSP}{currency}"


# --- templates ----------------------------------------------------------------------------------

_REASONS: dict[Language, dict[str, str]] = {
    Language.RU: {
        "FRAUD_SUSPECTED": "операция отклонена системой безопасности",
        "PROVIDER_REJECTED": "платёжная система не приняла перевод",
        "PROVIDER_DECLINED": "банк получателя отклонил перевод",
        "TIMEOUT": "банк не подтвердил перевод вовремя",
    },
    Language.EN: {
        "FRAUD_SUSPECTED": "it was blocked by our security checks",
        "PROVIDER_REJECTED": "the payment system did not accept it",
        "PROVIDER_DECLINED": "the recipient's bank declined it",
        "TIMEOUT": "the bank did not confirm it in time",
    },
}
_UNKNOWN_REASON = {Language.RU: "техническая ошибка", Language.EN: "of a technical error"}

_TEMPLATES: dict[tuple[Outcome, Language], Message] = {
    (Outcome.COMPLETED, Language.RU): Message(
        title="Перевод выполнен",
        text="PaySaga: перевод {amount} получателю {recipient} выполнен. Платёж {ref}.",
    ),
    (Outcome.FAILED, Language.RU): Message(
        title="Перевод не выполнен",
        text="PaySaga: перевод {amount} получателю {recipient} не выполнен: {reason}. "
        "Деньги снова доступны в кошельке. Платёж {ref}.",
    ),
    (Outcome.COMPLETED, Language.EN): Message(
        title="Payment sent",
        text="PaySaga: your payment of {amount} to {recipient} has been sent. Ref {ref}.",
    ),
    (Outcome.FAILED, Language.EN): Message(
        title="Payment failed",
        text="PaySaga: your payment of {amount} to {recipient} failed because {reason}. "
        "The money is available in your wallet again. Ref {ref}.",
    ),
}


def failure_reason(error_code: str | None, language: Language) -> str:
    """A human reason for a PaymentFailed errorCode; unknown codes get a neutral one."""
    return _REASONS[language].get(error_code or "", _UNKNOWN_REASON[language])


def render(facts: PaymentFacts, language: Language) -> Message:
    """The message about a payment's outcome, in `language` (the same text for every channel)."""
    if not facts.ready or facts.outcome is None or facts.amount is None:
        raise ValueError(f"payment {facts.payment_id} is not ready to be notified")
    template = _TEMPLATES[(facts.outcome, language)]
    fields = {
        "amount": format_amount(facts.amount, facts.currency or "RUB", language),
        "recipient": facts.recipient_name or ("получатель" if language is Language.RU else "the recipient"),
        "reason": failure_reason(facts.error_code, language),
        "ref": facts.payment_id[:8],
    }
    return Message(title=template.title, text=template.text.format(**fields))


# --- delivery attempts --------------------------------------------------------------------------


def status_after_failure(attempts: int, max_attempts: int) -> Status:
    """A failed attempt: try again later, or give up once `max_attempts` were made."""
    return Status.FAILED if attempts >= max_attempts else Status.PENDING
