"""Query service: the CQRS read model of payments, fed by payment-events."""
