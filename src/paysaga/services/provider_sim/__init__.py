"""Provider simulator: the stand-in for the external bank that executes payouts (SPEC §8)."""
