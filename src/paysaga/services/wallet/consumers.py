"""What the Wallet service consumes, and which handler applies it."""

from paysaga.contracts.events import CustomerCreated, Event
from paysaga.platform.consumer import Handler
from paysaga.services.wallet import handlers

HANDLERS: dict[type[Event], Handler] = {
    CustomerCreated: handlers.open_wallet,
}
