"""Java programs from Maven Central: `mvn dependency:copy-dependencies` of a small pom.xml of ours into a
folder under the state dir, once (a marker holding the pom says the folder is complete and current)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class MissingJava(RuntimeError):
    pass


def require_java() -> None:
    for tool, pkg in (("java", "openjdk-17-jre-headless"), ("mvn", "maven")):
        if shutil.which(tool) is None:
            raise MissingJava(f"`{tool}` not found: install Java 17+ and Maven (e.g. `apt-get install {pkg}`)")


def copy_dependencies(pom: Path, libs_dir: Path) -> bool:
    """Resolve `pom`'s runtime dependencies into `libs_dir` unless done already; True if it downloaded now."""
    marker = libs_dir / ".complete"
    if marker.exists() and marker.read_text() == pom.read_text():
        return False
    require_java()
    if libs_dir.exists():
        shutil.rmtree(libs_dir)
    libs_dir.mkdir(parents=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs_dir}",
        ],
        check=True,
    )
    marker.write_text(pom.read_text())
    return True
