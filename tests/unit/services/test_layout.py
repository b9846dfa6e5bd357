"""The conventions every service keeps (docs/conventions.md): SQL only in `repository.py` or
`store.py` (and migrations); `domain.py` is plain Python, with no driver, framework or client."""

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
    "aiohttp",
    "grpc",
    "duckdb",
    "paysaga.platform.db",
    "paysaga.platform.http",
    "paysaga.platform.kafka",
    "paysaga.platform.unit_of_work",
)
ALL = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())


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


@pytest.mark.parametrize("service", ALL)
def test_sql_lives_only_in_the_repository(service: str) -> None:
    root = SERVICES / service
    offenders = [
        f"{path.relative_to(root)}: {text[:60]!r}"
        for path in sorted(root.rglob("*.py"))
        if path.name not in ("repository.py", "store.py") and "migrations" not in path.relative_to(root).parts
        for text in string_constants(path)
        if SQL.search(text)
    ]
    assert offenders == []


@pytest.mark.parametrize("service", [s for s in ALL if (SERVICES / s / "domain.py").exists()])
def test_the_rules_import_no_driver_framework_or_client(service: str) -> None:
    imported = imported_modules(SERVICES / service / "domain.py")
    assert [m for m in imported if m.startswith(DRIVERS_AND_FRAMEWORKS)] == []


def test_no_bff_module_needs_a_type_ignore() -> None:
    root = SERVICES / "bff"
    assert [p.name for p in sorted(root.rglob("*.py")) if "type: ignore" in p.read_text()] == []
