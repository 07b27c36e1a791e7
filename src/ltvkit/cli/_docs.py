"""Render docs/cli.md from the Typer application, so the command reference never drifts from the code."""

from __future__ import annotations

import typer.main

from ._app import app


def _default(param: object) -> str:
    default = getattr(param, "default", None)
    if default is None or default is False or callable(default):
        return ""
    return f" (default: `{default}`)"


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    """Every command with its full name (``crm plan``); a group's own entry lists its help only."""
    out: list[tuple[str, object]] = []
    for name in sorted(group.commands):  # type: ignore[attr-defined]
        command = group.commands[name]  # type: ignore[attr-defined]
        full = f"{prefix}{name}"
        out.append((full, command))
        if hasattr(command, "commands"):
            out.extend(_commands(command, full + " "))
    return out


def cli_reference() -> str:
    """The Markdown text of docs/cli.md."""
    group = typer.main.get_command(app)
    lines = [
        "# Command reference",
        "",
        "<!-- Generated from the code by `python -m ltvkit.cli._docs > docs/cli.md`; a test keeps it current. -->",
        "",
        "Every command takes `--workspace FILE` (default `./ltv.duckdb`, or the `LTV_WORKSPACE` variable).",
        "Results print as a table, or as JSON / CSV on standard output with `--json` / `--csv`; `--out FILE` writes",
        "a file whose format follows its extension. A mistake prints one sentence starting with `Error:` and exits 1.",
        "",
    ]
    for name, command in _commands(group):
        help_text = (command.help or "").strip()
        lines += [f"## ltv {name}", "", help_text, ""]
        for param in command.params:
            opts = ", ".join(f"`{o}`" for o in param.opts)
            kind = "argument" if param.param_type_name == "argument" else "option"
            text = (getattr(param, "help", None) or "").strip()
            lines.append(f"- {opts} ({kind}){': ' + text if text else ''}{_default(param)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(cli_reference(), end="")
