"""Render docs/cli.md from the Typer application, so the command reference never drifts from the code."""

from __future__ import annotations

from typing import Any

import typer.main

from ._app import app


def _default(param: object) -> str:
    default = getattr(param, "default", None)
    if default is None or default is False or callable(default):
        return ""
    return f" (default: `{default}`)"


def leaf_commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(name, command)`` of every command that runs something, sub-commands as ``runs list``, sorted."""
    out: list[tuple[str, Any]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        if getattr(command, "commands", None):  # a group of sub-commands
            out.extend(leaf_commands(command, f"{prefix}{name} "))
        else:
            out.append((f"{prefix}{name}", command))
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
        "a file whose format follows its extension. A mistake prints one sentence and exits 1.",
        "",
        "Printed tables are for people: headers in the `--lang` language, money in 円 (large sums also in 万円 in the",
        "summaries), shares as %, cohort months as 2024年4月, ✓ / — for yes / no, and only the columns that fit the",
        "terminal (the others are named under the table; `--wide` prints them all).",
        "",
        "Two kinds of CSV, on purpose:",
        "",
        "- **CSV for people** — `--out FILE.csv`: UTF-8 with a BOM, so Japanese Excel opens it without mojibake;",
        "  `ltv --encoding cp932 … --out FILE.csv` (or `LTV_CSV_ENCODING=cp932`) writes Shift_JIS (CP932) for older",
        "  Excel, `--encoding utf-8` plain UTF-8.",
        "- **CSV for machines** — `--csv` on standard output: plain UTF-8 without a BOM, whatever `--encoding` says.",
        "",
        "Both keep the stable English column names and unformatted numbers (as `--json` and Parquet do).",
        "",
        "## Global options",
        "",
        "Given before the command (`ltv --lang en summary`). Every command that prints words also takes its own",
        "`--lang`, which wins. Error messages follow the language: `エラー: …` in Japanese, `Error: …` in English.",
        "",
        "Text from the data is never run as a formula: `.xlsx` files store it as text. For CSV files opened in Excel,",
        "`ltv --excel-safe COMMAND …` (or `LTV_EXCEL_SAFE=1`) prefixes text cells that start with `=`, `+`, `-` or",
        "`@` with `'`, as Excel's own escape; leave it off for CSV read by programs, which get the text unchanged.",
        "",
    ]
    for param in group.params:
        if param.name == "help":
            continue
        opts = ", ".join(f"`{o}`" for o in param.opts)
        text = (getattr(param, "help", None) or "").strip()
        lines.append(f"- {opts} (option){': ' + text if text else ''}{_default(param)}")
    lines.append("")
    for name, command in leaf_commands(group):
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
