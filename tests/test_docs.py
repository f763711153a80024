"""Docs are code: every command has help, is in the generated CLI reference and is named in the README."""

from __future__ import annotations

import pytest
from helpers import REPO

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


def test_readme_quickstart_is_two_commands_and_ci_runs_the_test_one_then_the_slow_tests() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("cdq demo")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    steps = [line for line in ci if "-m pytest" in line]
    assert len(steps) == 2, ".ci/run runs two steps: the default run and the slow tests"
    assert steps[0] == commands[1] + " || status=$?", ".ci/run's first step is the README's test command, verbatim"
    assert steps[1].startswith(".venv/bin/python -m pytest -q -p no:cacheprovider -m slow ")
    assert ci[-1] == 'exit "$status"', ".ci/run fails when either step fails"
