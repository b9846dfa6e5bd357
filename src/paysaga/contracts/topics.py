"""Topic names, from the seeds' Messaging document."""

PAYMENT_EVENTS = "payment-events"
CALLBACK_EVENTS = "callback-events"
CUSTOMER_EVENTS = "customer-events"

ALL_TOPICS = (PAYMENT_EVENTS, CALLBACK_EVENTS, CUSTOMER_EVENTS)


def dead_letter_topic(topic: str) -> str:
    """One dead-letter topic per consumed topic; the failing group is named in the headers."""
    return f"{topic}.dlq"
