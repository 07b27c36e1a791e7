"""Documentation stays true: the command reference is generated from the code, settings are documented."""

from pathlib import Path

import typer.main

from ltvkit.cli import app
from ltvkit.cli._docs import cli_reference
from ltvkit.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is stale: run `python -m ltvkit.cli._docs > docs/cli.md`"
    )


def test_every_command_has_help_and_takes_a_workspace():
    group = typer.main.get_command(app)
    assert {"import", "info", "demo", "report", "predict", "recommend", "cohorts"} <= set(group.commands)
    from ltvkit.cli._docs import _commands

    for name, command in _commands(group):
        assert (command.help or "").strip(), f"ltv {name} has no help text"
        if hasattr(command, "commands"):  # a group: its commands take the options
            continue
        opts = {o for p in command.params for o in p.opts}
        assert "--workspace" in opts, f"ltv {name} does not take --workspace"


def test_settings_are_documented():
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env_var}`" in text, f"{setting.env_var} is not in docs/settings.md"


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```bash")[1:3]]
    assert blocks[0].endswith("ltv demo")
    assert blocks[1] == "bash scripts/test"
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
