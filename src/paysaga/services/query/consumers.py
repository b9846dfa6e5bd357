"""What the Query service consumes, and which handler applies it."""

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Handler
from paysaga.services.query import handlers

HANDLERS: dict[type[Event], Handler] = {
    PaymentInitiated: handlers.on_initiated,
    PaymentCompleted: handlers.on_completed,
    PaymentFailed: handlers.on_failed,
}
