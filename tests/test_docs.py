"""Docs are code: every command has help, is in the generated CLI reference and is named in the README."""

from __future__ import annotations

import pytest
from conftest import REPO

from cdq.cli.docs import command_paths, help_text, render

PATHS = command_paths()


def test_cli_reference_is_current() -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: run `python -m cdq.cli.docs > docs/cli.md`"


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_every_command_has_help(path: list[str]) -> None:
    text = help_text(path)
    assert text.startswith("Usage: cdq " + " ".join(path))
    description = text.splitlines()[2].strip() if len(text.splitlines()) > 2 else ""
    assert len(description) > 15, f"cdq {' '.join(path)} has no help text"


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_every_command_is_in_the_readme(path: list[str]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"cdq {' '.join(path)}" in readme, f"README does not mention `cdq {' '.join(path)}`"


def test_readme_quickstart_is_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("cdq demo")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == commands[1], ".ci/run must end with the README's test command, verbatim"
