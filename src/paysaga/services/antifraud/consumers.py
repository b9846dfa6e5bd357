"""What the Anti-Fraud service consumes, and which handler applies it."""

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Handler
from paysaga.services.antifraud import handlers

HANDLERS: dict[type[Event], Handler] = {
    PaymentInitiated: handlers.record_initiated,
    PaymentCompleted: handlers.record_completed,
    PaymentFailed: handlers.record_failed,
}
