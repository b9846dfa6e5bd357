"""The conventions the Wallet and BFF code keeps: SQL only in repository.py, pure wallet rules."""

import ast
import re
from pathlib import Path

import pytest

import paysaga.services

pytestmark = pytest.mark.unit

SERVICES = Path(paysaga.services.__file__).parent
SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b", re.DOTALL)
DRIVERS_AND_FRAMEWORKS = (  # the rules are plain Python: no I/O of any kind
    "asyncpg",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "httpx",
    "confluent_kafka",
    "paysaga.platform",
)


def string_constants(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("service", ["wallet", "bff"])
def test_sql_lives_only_in_the_repository(service: str) -> None:
    root = SERVICES / service
    offenders = [
        f"{path.relative_to(root)}: {text[:60]!r}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "repository.py" and "migrations" not in path.relative_to(root).parts
        for text in string_constants(path)
        if SQL.search(text)
    ]
    assert offenders == []


def test_the_wallet_rules_import_no_driver_framework_or_client() -> None:
    imported = imported_modules(SERVICES / "wallet" / "domain.py")
    assert [m for m in imported if m.startswith(DRIVERS_AND_FRAMEWORKS)] == []


def test_no_bff_module_needs_a_type_ignore() -> None:
    root = SERVICES / "bff"
    assert [p.name for p in sorted(root.rglob("*.py")) if "type: ignore" in p.read_text()] == []
