"""The services the platform runs, their default ports and databases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int
    has_database: bool

    @property
    def module(self) -> str:
        return f"paysaga.services.{self.name}.main"

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_") + "_"

    @property
    def database(self) -> str:
        return f"paysaga_{self.name}"


SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("customer", 8001, True),
    ServiceEntry("wallet", 8002, True),
    ServiceEntry("bff", 8000, False),
)
