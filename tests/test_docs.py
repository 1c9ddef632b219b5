"""Docs are checked: every `tidings …` command shown in README.md and docs/ exists and its
options parse, and every command the CLI has is shown in the README and has help text."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tidings.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shown_commands() -> list[tuple[str, list[str]]]:
    """(doc name, argv) for each `tidings …` line inside a fenced code block."""
    found = []
    for doc in DOCS:
        in_code = False
        for line in doc.read_text().splitlines():
            if line.startswith("```"):
                in_code = not in_code
                continue
            m = re.match(r"\s*(?:\$ )?tidings\s+(.*?)\s*(?:#.*)?$", line)
            if in_code and m:
                text = m.group(1).rstrip("\\").strip()
                found.append((doc.name, shlex.split(text)))
    return found


def test_docs_show_commands() -> None:
    assert len(SHOWN) >= 5


SHOWN = shown_commands()


@pytest.mark.parametrize(("doc", "argv"), SHOWN, ids=[f"{d}: {' '.join(a)[:50]}" for d, a in SHOWN])
def test_each_shown_command_exists_and_its_options_parse(doc: str, argv: list[str]) -> None:
    assert isinstance(cli, click.Group)
    name = argv[0]
    assert name in cli.commands, f"{doc} shows `tidings {name}`, which does not exist"
    command = cli.commands[name]
    ctx = command.make_context(name, argv[1:], resilient_parsing=True)
    known = {o for p in command.params for o in getattr(p, "opts", [])}
    for arg in argv[1:]:
        if arg.startswith("--"):
            assert arg.split("=")[0] in known, f"{doc}: `{arg}` is not an option of {name}"
    assert ctx.command is command


def test_every_command_has_help_and_is_in_the_readme() -> None:
    assert isinstance(cli, click.Group)
    readme = (ROOT / "README.md").read_text()
    for name in cli.commands:
        res = CliRunner().invoke(cli, [name, "--help"])
        assert res.exit_code == 0 and len(res.output) > 200, name
        assert f"tidings {name}" in readme, f"README.md does not show `tidings {name}`"
