"""BFF: the public REST API for browsers and scripts (SPEC §7)."""
