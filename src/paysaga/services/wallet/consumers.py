"""What the Wallet service consumes, and which handler applies it."""

from paysaga.contracts.events import CustomerCreated, Event, PaymentCompleted, PaymentFailed
from paysaga.platform.consumer import Handler
from paysaga.services.wallet import handlers

HANDLERS: dict[type[Event], Handler] = {
    CustomerCreated: handlers.open_wallet,
    PaymentCompleted: handlers.commit_reservation,
    PaymentFailed: handlers.release_reservation,
}
