"""Write the CLI reference page (docs/cli.md) from the Typer commands themselves.

    .venv/bin/python scripts/cli_reference.py > docs/cli.md

tests/test_docs_site.py fails when the page and the commands differ.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import typer

from digipersona.cli.main import COMMANDS, app

HEADER = """# Command line reference

Generated from the commands themselves by `scripts/cli_reference.py`; do not edit by hand.
Every command reads its settings from `DIGIPERSONA_*` environment variables
([Configuration](configuration.md)).
"""


# Typer vendors click (typer._click), so commands and parameters are told apart by what they
# have, not by click's classes.


def is_group(command: Any) -> bool:
    return isinstance(getattr(command, "commands", None), dict)


def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    """The command and, for a group, each of its subcommands in name order."""
    yield path, command
    if is_group(command):
        for name in sorted(command.commands):
            yield from walk(command.commands[name], f"{path} {name}")


def describe(param: Any) -> tuple[str, str, str]:
    """Name(s), default and help of one parameter, for a table row."""
    help_text = getattr(param, "help", None) or ""
    if param.param_type_name == "argument":
        return f"`{str(param.name).upper()}` (argument)", _default(param), help_text
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    return names, _default(param), help_text


def _default(param: Any) -> str:
    if param.required:
        return "required"
    default: Any = param.default
    if default is None or callable(default) or default == ():
        return ""
    if isinstance(default, bool):
        return "on" if default else "off"
    return f"`{default}`"


def render() -> str:
    root = typer.main.get_command(app)
    ctx = root.context_class(root)
    lines = [HEADER]
    for name in COMMANDS:
        for path, command in walk(COMMANDS[name].load(name), name):
            if is_group(command):
                lines += [f"## digipersona {path}", "", (command.help or "").strip(), ""]
                continue
            lines += [f"### digipersona {path}", ""]
            usage = " ".join(command.collect_usage_pieces(ctx)).replace("{", "").replace("}", "")
            lines += [f"`digipersona {path} {usage.upper()}`", ""]
            lines += [(command.help or "").strip(), ""]
            rows = [describe(p) for p in command.params if p.name != "help"]
            if rows:
                lines += ["| parameter | default | meaning |", "|---|---|---|"]
                lines += [f"| {n} | {d} | {h.replace('|', '/')} |" for n, d, h in rows]
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
