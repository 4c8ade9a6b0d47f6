"""Docs that cannot go stale: every setting and every command is in the README; the
architecture names every module and shows the wiring as the code builds it."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from dam import wiring_text
from dam.cli import app, install_commands
from dam.plugins import builtin_wiring
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
    install_commands()
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


ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
PACKAGES = ("dam", "ingest", "gdpr", "search", "web")
# Code paths in backticks: `dam/jobs.py`, `ingest/video/`, `web/templates/`.
MENTION = re.compile(rf"`((?:{'|'.join(PACKAGES)})(?:/[\w.]+)*/?)`")


def mentioned_paths() -> set[str]:
    return {m.rstrip("/") for m in MENTION.findall(ARCHITECTURE)}


def test_every_path_the_architecture_names_exists() -> None:
    missing = sorted(p for p in mentioned_paths() if not (ROOT / p).exists())
    assert missing == []


def test_the_architecture_names_every_module_or_its_sub_package() -> None:
    named = mentioned_paths()
    unnamed = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).iterdir()):
            relative = path.relative_to(ROOT).as_posix()
            if path.suffix == ".py" and path.name != "__init__.py":
                if relative not in named:
                    unnamed.append(relative)
            elif (path / "__init__.py").exists() and relative not in named:
                unnamed.append(relative + "/")
    assert unnamed == []


def test_the_architecture_shows_the_wiring_the_plugins_build() -> None:
    block = re.search(r"```wiring\n(.*?)\n```", ARCHITECTURE, re.S)
    assert block is not None, "docs/architecture.md lost its wiring block"
    printed = wiring_text.render(builtin_wiring().describe())
    assert block.group(1) == printed, (
        "docs/architecture.md's wiring differs from the code: paste `dam doctor --wiring`"
    )
