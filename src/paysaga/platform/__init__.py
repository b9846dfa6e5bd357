"""Runtime plumbing every service shares: settings, database, outbox, inbox, Kafka, HTTP, logs."""
