"""A private PostgreSQL cluster in a local folder, from the machine's PostgreSQL binaries."""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SUPERUSER = "paysaga"
FALLBACK_ROOT = Path("/var/tmp/paysaga-postgres")


class MissingPostgres(RuntimeError):
    pass


def find_bindir() -> Path:
    explicit = os.environ.get("PAYSAGA_PG_BINDIR")
    candidates = [explicit] if explicit else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if which := shutil.which("pg_ctl"):
        candidates.append(str(Path(which).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "postgres").exists():
            return Path(c)
    raise MissingPostgres(
        "PostgreSQL 15+ server binaries not found (initdb, postgres). Install them, e.g. "
        "`apt-get install postgresql-15`, or set PAYSAGA_PG_BINDIR,"
        " or point PAYSAGA_POSTGRES_URL at a server."
    )


def placed_for(data_dir: Path, user: str | None) -> Path:
    """Where the cluster really lives: `data_dir`, unless the server's user cannot reach it (a
    checkout under /root, say); then a folder of its own under /var/tmp, named after `data_dir`."""
    if user is None:
        return data_dir
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["test", "-x", str(data_dir.parent)], user=user, check=False).returncode == 0:
        return data_dir
    digest = hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return FALLBACK_ROOT / digest


def _run_as() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` system user."""
    return "postgres" if os.geteuid() == 0 else None


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int
    fsync: bool = True

    def __post_init__(self) -> None:
        self.data_dir = placed_for(self.data_dir, _run_as())

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _prepare_dir(self, user: str | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(self.data_dir, user, user)
            self.data_dir.chmod(0o700)
            probe = subprocess.run(["test", "-w", str(self.data_dir)], user=user, check=False)
            if probe.returncode != 0:
                raise MissingPostgres(f"the `{user}` user cannot write {self.data_dir}")

    def ensure_initialized(self) -> bool:
        """initdb on first use; True if it created the cluster."""
        if (self.data_dir / "PG_VERSION").exists():
            return False
        user = _run_as()
        self._prepare_dir(user)
        subprocess.run(
            [
                str(find_bindir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            user=user,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return True

    def command(self) -> list[str]:
        settings = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",
            "max_connections": "300",
            "shared_buffers": "128MB",
            "fsync": "on" if self.fsync else "off",
            "full_page_writes": "on" if self.fsync else "off",
            "log_min_messages": "warning",
            # Per-statement counts and times (CREATE EXTENSION pg_stat_statements; to read them).
            "shared_preload_libraries": "pg_stat_statements",
            "log_line_prefix": "",
        }
        argv = [str(find_bindir() / "postgres"), "-D", str(self.data_dir)]
        for k, v in settings.items():
            argv += ["-c", f"{k}={v}"]
        return argv

    @property
    def run_as(self) -> str | None:
        return _run_as()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                conn = await asyncpg.connect(self.admin_url, timeout=2)
                await conn.close()
                return
            except (OSError, asyncpg.PostgresError, TimeoutError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def ensure_databases(admin_url: str, names: list[str], *, recreate: bool = False) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for name in names:
            if recreate:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
