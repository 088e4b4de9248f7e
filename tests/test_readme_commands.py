"""The README's command table and the CLI agree: every command it names exists, and every
command the CLI offers is in the table (names and options stay as documented)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from typer.main import get_command

from assistant.commands.main import COMMANDS, app

README = Path(__file__).resolve().parent.parent / "README.md"


def _cli_commands() -> dict[str, set[str]]:
    group = get_command(app)
    ctx = group.make_context("huibao", ["--help"], resilient_parsing=True)
    out = {}
    for name in group.list_commands(ctx):  # type: ignore[attr-defined]
        command = group.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None, f"huibao {name}: listed but its module does not define it"
        commands = [command, *getattr(command, "commands", {}).values()]  # a group (outline): its subcommands' options
        out[name] = {
            opt for c in commands for param in c.params for opt in getattr(param, "opts", []) if opt.startswith("--")
        }
    return out


def test_lazy_command_table_names_every_command_of_every_module():
    # main.COMMANDS maps each command to its module; a command added to a module must be added there too
    for module in set(COMMANDS.values()):
        typer_app = importlib.import_module(f"assistant.commands.{module}").app
        registered = {
            info.name or info.callback.__name__  # type: ignore[union-attr]
            for info in typer_app.registered_commands
        } | {info.name for info in typer_app.registered_groups}
        assert registered == {name for name, m in COMMANDS.items() if m == module}, module


def _readme_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## 命令", 1)[1].split("\n## ", 1)[0]
    return [line for line in table.splitlines() if line.startswith("| `")]


def test_every_command_is_documented_and_exists():
    cli = _cli_commands()
    named = set()
    for row in _readme_rows():
        cell = re.split(r"(?<!\\)\|", row)[1]
        for group in re.findall(r"`([^`]+)`", cell):
            words = group.replace(".venv/bin/", "").split()
            if words[0] == "huibao":
                named.add(words[1])
            elif re.fullmatch(r"[a-z]+", words[0]):  # "`show` / `history`" continue the previous command's row
                named.add(words[0])
    assert named - set(cli) == set(), f"README names commands the CLI lacks: {sorted(named - set(cli))}"
    assert set(cli) - named == set(), f"CLI commands missing from the README table: {sorted(set(cli) - named)}"


def test_documented_options_exist():
    cli = _cli_commands()
    for row in _readme_rows():
        cell = re.split(r"(?<!\\)\|", row)[1]
        m = re.search(r"`(?:\.venv/bin/)?huibao (\w[\w-]*)([^`]*)`", cell)
        if not m:
            continue
        options = set(re.findall(r"--[a-z][\w-]*", m.group(2)))
        assert options <= cli[m.group(1)], (
            f"{m.group(1)}: README options {sorted(options - cli[m.group(1)])} not in the CLI"
        )
