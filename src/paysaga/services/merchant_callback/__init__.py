"""Merchant Callback: signed webhooks to merchants on the final event of their payments."""
