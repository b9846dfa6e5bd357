"""Every setting of the platform as a Markdown table (the README's settings section).

`python -m paysaga.devstack.settings_doc` prints it; `... --write README.md` puts it in the
README between its settings markers; a test fails while the README's table is stale.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from paysaga.devstack.catalog import SERVICES
from paysaga.platform.settings import PlatformSettings


def settings_classes() -> Iterator[tuple[str, type[BaseSettings]]]:
    yield "all services", PlatformSettings
    for entry in SERVICES:
        module = importlib.import_module(f"paysaga.services.{entry.name}.settings")
        classes = [
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, BaseSettings) and v.__module__ == module.__name__
        ]
        for cls in classes:
            yield entry.name, cls


def _inherited_description(cls: type[BaseSettings], name: str) -> str:
    """A subclass that only changes a default keeps its parent's description."""
    for base in cls.__mro__[1:]:
        fields = getattr(base, "model_fields", {})
        if name in fields and fields[name].description:
            return str(fields[name].description)
    return ""


def rows() -> Iterator[tuple[str, str, str, str]]:
    for owner, cls in settings_classes():
        prefix = cls.model_config.get("env_prefix", "")
        for name, field in cls.model_fields.items():
            default = field.default
            if isinstance(default, SecretStr):
                default = "(dev-only value; set it in production)"
            elif default is None:
                default = "—"
            yield (
                f"{prefix}{name}".upper(),
                owner,
                f"`{default}`" if default != "—" else default,
                field.description or _inherited_description(cls, name),
            )


def markdown() -> str:
    lines = ["| variable | service | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{var}` | {owner} | {default} | {meaning} |" for var, owner, default, meaning in rows()]
    return "\n".join(lines)


START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def readme_with_table(readme: str) -> str:
    """The README with the generated table between its settings markers."""
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{markdown()}\n{END}{after}"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--write"]:
        path = Path(args[1] if len(args) > 1 else "README.md")
        path.write_text(readme_with_table(path.read_text()))
    else:
        print(markdown())


if __name__ == "__main__":
    main()
