"""Where the local platform keeps its state (`make clean` removes it)."""

import os
from pathlib import Path


def state_dir() -> Path:
    return Path(os.environ.get("PAYSAGA_STATE_DIR", ".local")).resolve()


def kafka_libs_dir() -> Path:
    """The broker's jars, shared by `make run` and the tests."""
    return state_dir() / "kafka-libs"


def zipkin_libs_dir() -> Path:
    """The Zipkin server's jar, shared by `make run` and the tests."""
    return state_dir() / "zipkin-libs"
