"""What the Merchant Callback service consumes, and which handler applies it."""

from collections.abc import Callable

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Handler
from paysaga.services.merchant_callback.domain import RetryPolicy
from paysaga.services.merchant_callback.handlers import PaymentEventHandlers


def build_handlers(policy: RetryPolicy, wake_dispatcher: Callable[[], None]) -> dict[type[Event], Handler]:
    handlers = PaymentEventHandlers(policy, wake_dispatcher)
    return {
        PaymentInitiated: handlers.initiated,
        PaymentCompleted: handlers.completed,
        PaymentFailed: handlers.failed,
    }
