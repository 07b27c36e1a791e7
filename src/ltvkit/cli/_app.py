"""The Typer application and the entry point that turns LtvkitError into one sentence."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator

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
    import duckdb

    from ._errors import duckdb_key, message, set_lang

    args = sys.argv[1:] if argv is None else argv
    lang = set_lang(args)
    try:
        with _quiet_library_warnings():
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
    except duckdb.Error as exc:  # the workspace file failed under a command (damaged, not a workspace, locked)
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        err_console.print(f"Error: {message(duckdb_key(text), lang, path=_workspace_arg(args), detail=text)}",
                          markup=False)
        return 1
    except OSError as exc:  # a file the command reads or writes: missing, a folder, no permission
        where = exc.filename if exc.filename is not None else "a file"
        err_console.print(f"Error: {message('file_error', lang, path=where, reason=exc.strerror or exc)}",
                          markup=False)
        return 1
    except KeyboardInterrupt:
        err_console.print("Interrupted; the workspace is unchanged by the step that was running.")
        return 130
    return 0


def _workspace_arg(args: list[str]) -> str:
    """The --workspace given on the command line (else LTV_WORKSPACE, else the default), for messages."""
    import os

    from ..config import DEFAULT_WORKSPACE

    for k, a in enumerate(args):
        if a in ("--workspace", "-w") and k + 1 < len(args):
            return args[k + 1]
        if a.startswith("--workspace="):
            return a.split("=", 1)[1]
    return os.environ.get("LTV_WORKSPACE", DEFAULT_WORKSPACE)


@contextlib.contextmanager
def _quiet_library_warnings() -> Iterator[None]:
    """Library warnings (pandas, numpy, scipy, ibis) carry source paths meant for developers: the command's own
    output says what matters, so they are not shown (``PYTHONWARNINGS`` or ``-W`` still shows them)."""
    if sys.warnoptions:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def console_main() -> None:
    sys.exit(main())


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the ltvkit version and exit."),
    excel_safe: bool = typer.Option(False, "--excel-safe", envvar="LTV_EXCEL_SAFE",
                                    help="CSV output (--csv, --out X.csv) for Excel: text cells starting with = + - @ "
                                         "get a leading ' so that they are never run as formulas."),
) -> None:
    """ltvkit: customer lifetime value for e-commerce shops."""
    from ._common import EXCEL_SAFE

    EXCEL_SAFE["on"] = excel_safe
    if version:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit(0)
