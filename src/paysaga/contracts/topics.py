"""Topic names: the three of the seeds' Messaging document, and PaySaga's own `wallet-events`."""

PAYMENT_EVENTS = "payment-events"
CALLBACK_EVENTS = "callback-events"
CUSTOMER_EVENTS = "customer-events"
WALLET_EVENTS = "wallet-events"  # not in the seeds: Wallet's top-ups, for Core Banking's ledger (issue 12)

ALL_TOPICS = (PAYMENT_EVENTS, CALLBACK_EVENTS, CUSTOMER_EVENTS, WALLET_EVENTS)


def dead_letter_topic(topic: str) -> str:
    """One dead-letter topic per consumed topic; the failing group is named in the headers."""
    return f"{topic}.dlq"
