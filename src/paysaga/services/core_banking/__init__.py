"""Core Banking service: the double-entry accounting ledger; posts every completed payout."""
