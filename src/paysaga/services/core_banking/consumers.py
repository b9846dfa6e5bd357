"""What the Core Banking service consumes, and which handler applies it.

WalletToppedUp (wallet-events) credits Customer funds; PaymentCompleted debits them; PaymentFailed moves
nothing (the reserved money stays in the wallet). PaymentInitiated is read only for the amount and currency
of a payment: PaymentCompleted does not carry them (seed contract), and Core Banking calls no other service
to ask.
"""

from paysaga.contracts.events import Event, PaymentCompleted, PaymentInitiated, WalletToppedUp
from paysaga.platform.consumer import Handler
from paysaga.services.core_banking import handlers

HANDLERS: dict[type[Event], Handler] = {
    WalletToppedUp: handlers.post_top_up,
    PaymentInitiated: handlers.record_payment,
    PaymentCompleted: handlers.post_payout,
}
