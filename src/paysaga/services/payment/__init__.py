"""Payment service (the seeds' "Transaction Service"): the payment state machine, Anti-Fraud and
provider calls, callbacks, timeouts and reconciliation; publishes PaymentCompleted/PaymentFailed."""
