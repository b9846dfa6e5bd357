"""The garbage collector settled after start-up: start-up's objects frozen, later cycles still collected.

Run in a child process: freezing would change the test session's own collector."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.unit

_CHILD = textwrap.dedent(
    """
    import gc, weakref
    from paysaga.platform.gc_tuning import YOUNG_THRESHOLD, settle

    class Node:
        pass

    frozen = settle()
    assert frozen == gc.get_freeze_count() and frozen > 1000, frozen
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made after start-up: only the collector can free it
    gone = weakref.ref(a)
    del a, b
    assert gone() is not None
    gc.collect()
    assert gone() is None, "a cycle made after settle() was not collected"
    print("ok")
    """
)


def test_settle_freezes_startup_objects_and_later_cycles_are_still_collected() -> None:
    result = subprocess.run([sys.executable, "-c", _CHILD], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
