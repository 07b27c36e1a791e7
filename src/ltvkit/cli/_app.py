"""The Typer application and the entry point that turns LtvkitError into one sentence."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ..exceptions import LtvkitError

app = typer.Typer(
    name="ltv",
    help="ltvkit: customer lifetime value for e-commerce shops (Rakuten, Yahoo!, Shopify, Amazon, own site).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run the ``ltv`` command; return its exit status (used by the console script and by tests)."""
    try:
        app(args=argv, standalone_mode=False, prog_name="ltv")
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.TyperException as exc:  # usage errors: Typer's own message and help hint
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err_console.print(f"Error: {exc.format_message()}", markup=False)
        return exc.exit_code
    except typer.Abort:
        err_console.print("Aborted.")
        return 1
    except LtvkitError as exc:
        err_console.print(f"Error: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        err_console.print("Interrupted; the workspace is unchanged by the step that was running.")
        return 130
    return 0


def console_main() -> None:
    sys.exit(main())


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the ltvkit version and exit."),
) -> None:
    """ltvkit: customer lifetime value for e-commerce shops."""
    if version:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit(0)
