"""What the Core Banking service consumes, and which handler applies it.

PaymentInitiated is read only for the amount and currency of a payment: PaymentCompleted does not
carry them (seed contract), and Core Banking calls no other service to ask.
"""

from paysaga.contracts.events import Event, PaymentCompleted, PaymentInitiated
from paysaga.platform.consumer import Handler
from paysaga.services.core_banking import handlers

HANDLERS: dict[type[Event], Handler] = {
    PaymentInitiated: handlers.record_payment,
    PaymentCompleted: handlers.post_payout,
}
