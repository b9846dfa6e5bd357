"""The one retry schedule of the platform: exponential, capped, with jitter."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, initial: float, maximum: float, jitter: float | None = None) -> float:
    """Seconds to wait after the `attempt`-th failure (1-based; 0 counts as 1): `initial` doubling
    up to `maximum`, then a point in [delay/2, delay] picked by `jitter` in [0, 1] (drawn when
    None), so that many failing together do not retry in lockstep."""
    if jitter is None:
        jitter = random.random()
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be in [0, 1]")
    exponent = min(max(0, attempt - 1), 62)  # 2**62 · initial is far above any cap
    delay = min(maximum, initial * 2.0**exponent)
    return delay * (0.5 + 0.5 * jitter)
