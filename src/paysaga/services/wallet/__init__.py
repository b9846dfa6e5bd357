"""Wallet service: wallets, balances, reservations; publishes PaymentInitiated and WalletToppedUp."""
