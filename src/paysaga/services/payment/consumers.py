"""What the Payment service consumes, and which handler applies it."""

from collections.abc import Callable

from paysaga.contracts.events import Event, PaymentInitiated, ProviderCallbackReceived
from paysaga.platform.consumer import Handler
from paysaga.services.payment import handlers
from paysaga.services.payment.settings import PaymentSettings


def build_handlers(settings: PaymentSettings, wake_worker: Callable[[], None]) -> dict[type[Event], Handler]:
    return {
        PaymentInitiated: handlers.record_payment_handler(settings, wake_worker),
        ProviderCallbackReceived: handlers.apply_callback,
    }
