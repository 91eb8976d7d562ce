"""The README documents what the program does (as sqlite-utils tests its docs)."""

from __future__ import annotations

import re
from pathlib import Path

from core import cli, schema

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_quick_start_has_exactly_two_one_line_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    assert all(len(b.strip().splitlines()) == 1 for b in blocks)
    run, test = (b.strip() for b in blocks)
    assert run.endswith("python main.py")
    assert test.endswith("-m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "-m pytest" in ci and "README.md" in ci


def test_every_command_and_table_is_documented():
    for command in cli.COMMANDS:
        assert f"python main.py {command} " in README, command
    for table in schema.TABLES:
        assert f"`{table}`" in README, table
    for option in ("--format", "--search", "--help", "--version"):
        assert option in README
