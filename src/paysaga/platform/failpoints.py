"""Named crash points for crash-safety tests.

`PAYSAGA_FAILPOINTS=relay.before_publish` makes the process die (as `kill -9` would) when it
reaches that point. Unset in every normal run; reading one environment variable is all it costs.
"""

import os

_ARMED = frozenset(filter(None, os.environ.get("PAYSAGA_FAILPOINTS", "").split(",")))


def failpoint(name: str) -> None:
    if name in _ARMED:
        os._exit(137)
