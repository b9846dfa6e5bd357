"""The README stays true: its two commands come first, and its settings table is complete."""

from pathlib import Path

import pytest

from paysaga.devstack.settings_doc import readme_with_table

pytestmark = pytest.mark.unit

README = Path(__file__).parents[2] / "README.md"


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text()
    first_block = text.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def test_the_settings_table_is_generated_and_current() -> None:
    text = README.read_text()
    assert readme_with_table(text) == text, "run: python -m paysaga.devstack.settings_doc --write README.md"
