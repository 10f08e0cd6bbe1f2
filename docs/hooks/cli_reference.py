"""mkdocs hook: the CLI reference page is generated from the typer app at build time, so it cannot drift.

Every ``<!-- xlsdk-cli-reference -->`` marker is replaced by the ``--help`` text of every command and
sub-command of ``xlsdk``.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- xlsdk-cli-reference -->"


def _walk(command: Any, ctx: Any, path: list[str]) -> list[tuple[str, str]]:
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None  # plain click formatting: typer's rich help prints instead of returning
    sections = [(" ".join(path), command.get_help(ctx))]
    if hasattr(command, "list_commands"):  # a group (typer vendors its own click: no isinstance checks)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            sub_ctx = type(ctx)(sub, info_name=name, parent=ctx)
            sections += _walk(sub, sub_ctx, [*path, name])
    return sections


def cli_reference_markdown() -> str:
    import typer.main

    from xlsdk.cli import app

    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="xlsdk", terminal_width=100, max_content_width=100)
    parts = []
    for title, text in _walk(root, ctx, ["xlsdk"]):
        parts.append(f"## `{title}`\n\n```text\n{text.strip()}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference_markdown())
    return markdown
