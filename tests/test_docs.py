"""Docs that cannot go stale: every setting and every command is in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from dam.cli import app
from dam.plugins import load_plugins
from dam.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        f"DAM_{name.upper()}"
        for name in Settings.model_fields
        if f"`DAM_{name.upper()}`" not in README
    ]
    assert missing == []


def command_names() -> list[str]:
    load_plugins()
    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            names.extend(f"{name} {sub}" for sub in subcommands)
        else:
            names.append(name)
    return names


def test_every_command_is_documented() -> None:
    names = command_names()
    assert {"serve", "worker", "migrate", "import", "user add", "token create"} <= set(names)
    missing = [n for n in names if f"`dam {n}" not in README]
    assert missing == []
