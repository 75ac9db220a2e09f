"""Write docs/cli.md from the click commands themselves, so the reference cannot drift.

    python docs/cli_reference.py          # rewrite docs/cli.md
    python docs/cli_reference.py --check  # exit 1 when docs/cli.md is out of date (the tests do this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

OUT = Path(__file__).with_name("cli.md")
WIDTH = 100


def _help(command: click.Command, name: str, parent: click.Context | None = None) -> str:
    settings = {**(parent.command.context_settings if parent else {}), **command.context_settings}
    settings.update(terminal_width=WIDTH, max_content_width=WIDTH)
    return command.get_help(click.Context(command, info_name=name, parent=parent, **settings))


def render() -> str:
    """The whole reference as Markdown: the group's help, then every command's, in order."""
    from workbench.cli import cli

    root = click.Context(cli, info_name="workbench", **{**cli.context_settings, "terminal_width": WIDTH,
                                                         "max_content_width": WIDTH})
    parts = [
        "# CLI reference\n",
        "Generated from the commands' own help by `python docs/cli_reference.py`; a test fails when it is stale.\n",
        "```\n" + cli.get_help(root) + "\n```\n",
    ]
    for name in cli.list_commands(root):
        parts.append(f"## `workbench {name}`\n")
        parts.append("```\n" + _help(cli.get_command(root, name), name, root) + "\n```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run `python docs/cli_reference.py`", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
