"""Anti-Fraud service: the gRPC fraud check the Payment service calls before a payout.

Rules (per-payment amount limit, per-user velocity, recipient blocklist) in `domain`; velocity is
fed by consuming payment-events; every decision is stored and replayed for a repeated Check.
"""
