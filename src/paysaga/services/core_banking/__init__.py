"""Core Banking service: the double-entry accounting ledger; posts every wallet top-up and completed payout."""
