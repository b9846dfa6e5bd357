"""What the Notification service consumes, and which handler applies it."""

from collections.abc import Callable

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Handler
from paysaga.services.notification.domain import Channel
from paysaga.services.notification.handlers import PaymentEventHandlers
from paysaga.services.notification.settings import NotificationSettings


def build_handlers(settings: NotificationSettings, wake_dispatcher: Callable[[], None]) -> dict[type[Event], Handler]:
    handlers = PaymentEventHandlers(language=settings.default_language, channels=tuple(Channel), wake=wake_dispatcher)
    return {
        PaymentInitiated: handlers.on_initiated,  # who to tell and what about (amount, recipient)
        PaymentCompleted: handlers.on_completed,
        PaymentFailed: handlers.on_failed,
    }
