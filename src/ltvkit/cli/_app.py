"""The Typer application and the entry point that turns LtvkitError into one sentence in the chosen language."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator

import typer
from rich.console import Console

from ..config import default_workspace_path, env_lang
from ..exceptions import InputError, LtvkitError
from ..i18n import DEFAULT_LANG, is_lang, t
from ..store import EngineError, engine_error_key

app = typer.Typer(
    name="ltv",
    help="ltvkit: customer lifetime value for e-commerce shops (Rakuten, Yahoo!, Shopify, Amazon, own site).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags read `--json`, not `--json <bool>`
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)

# The language of this run's output and errors: set by the global --lang (or LTV_LANG) and by a command's --lang.
_run: dict[str, str | None] = {"lang": None}
# How tables and files are written for people: every column even past the terminal's width (--wide), and the
# encoding of CSV files written with --out (utf-8-sig: UTF-8 with a BOM, which Japanese Excel reads).
_output: dict[str, object] = {"wide": False, "encoding": "utf-8-sig"}
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "cp932")


def set_wide(wide: bool) -> None:
    _output["wide"] = bool(wide)


def is_wide() -> bool:
    return bool(_output["wide"])


def set_csv_encoding(encoding: str) -> None:
    value = encoding.lower().replace("_", "-")
    value = {"sjis": "cp932", "shift-jis": "cp932", "utf8": "utf-8", "utf8-sig": "utf-8-sig", "bom": "utf-8-sig"}.get(
        value, value)
    if value not in CSV_ENCODINGS:
        raise InputError(key="err.csv_encoding", value=encoding, choices=list(CSV_ENCODINGS))
    _output["encoding"] = value


def csv_encoding() -> str:
    return str(_output["encoding"])


def set_lang(lang: str) -> None:
    _run["lang"] = lang


def current_lang() -> str:
    """The language chosen for this run: a command's --lang, else the global --lang or LTV_LANG, else ja."""
    lang = _run["lang"] or env_lang() or DEFAULT_LANG
    return lang if is_lang(lang) else DEFAULT_LANG


def _lang_in(argv: list[str]) -> str | None:
    """The last valid ``--lang`` of the command line (for errors raised before a command has read its options)."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        else:
            continue
        if is_lang(value):
            found = value
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the ``ltv`` command; return its exit status (used by the console script and by tests)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _run["lang"] = _lang_in(args)
    _output.update(wide=False, encoding="utf-8-sig")
    try:
        with _quiet_library_warnings():
            app(args=args, standalone_mode=False, prog_name="ltv")
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.TyperException as exc:  # usage errors: the usage line, a help hint and one sentence
        if getattr(exc, "ctx", None) is not None:
            _show_usage_error(exc, current_lang())
        else:
            err_console.print(t("cli.error", current_lang(), message=exc.format_message()), markup=False)
        return exc.exit_code
    except typer.Abort:
        err_console.print(t("cli.aborted", current_lang()))
        return 1
    except LtvkitError as exc:
        lang = current_lang()
        err_console.print(t("cli.error", lang, message=exc.localized(lang)), markup=False)
        return 1
    except EngineError as exc:  # the workspace file failed under a command (damaged, not a workspace, locked)
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        lang = current_lang()
        err_console.print(t("cli.error", lang, message=t(engine_error_key(text), lang, path=_workspace_arg(args),
                                                          detail=text)), markup=False)
        return 1
    except OSError as exc:  # a file the command reads or writes: missing, a folder, no permission
        where = exc.filename if exc.filename is not None else "?"
        lang = current_lang()
        err_console.print(t("cli.error", lang, message=t("err.file_error", lang, path=where,
                                                          reason=exc.strerror or exc)), markup=False)
        return 1
    except KeyboardInterrupt:
        err_console.print(t("cli.interrupted", current_lang()))
        return 130
    return 0


def _show_usage_error(exc: typer.TyperException, lang: str) -> None:
    """A usage error of the command line parser in ``lang``: the usage line, where to find help, what was wrong.

    The parser's classes are matched by name (Typer vendors its own copy of Click).
    """
    kinds = {c.__name__ for c in type(exc).__mro__}
    param = getattr(exc, "param", None)
    name = (param.opts or [param.human_readable_name])[0] if param is not None else ""
    if "NoSuchOption" in kinds:
        possible = sorted(getattr(exc, "possibilities", None) or ())
        message = t("cli.usage.no_such_option_hint" if possible else "cli.usage.no_such_option", lang,
                    option=exc.option_name, possible=possible)
    elif "MissingParameter" in kinds and param is not None:
        key = "cli.usage.missing_argument" if param.param_type_name == "argument" else "cli.usage.missing_option"
        message = t(key, lang, name=name.upper() if param.param_type_name == "argument" else name)
    elif "BadParameter" in kinds and param is not None:
        message = t("cli.usage.bad_value", lang, name=name, detail=exc.message.rstrip("."))
    else:
        message = t("cli.usage.other", lang, detail=exc.format_message().rstrip("."))
    err_console.print(exc.ctx.get_usage(), markup=False)
    err_console.print(t("cli.usage.help", lang, command=exc.ctx.command_path), markup=False)
    err_console.print(t("cli.error", lang, message=message), markup=False)


def _workspace_arg(args: list[str]) -> str:
    """The --workspace given on the command line (else LTV_WORKSPACE, else the default), for messages."""
    for k, a in enumerate(args):
        if a in ("--workspace", "-w") and k + 1 < len(args):
            return args[k + 1]
        if a.startswith("--workspace="):
            return a.split("=", 1)[1]
    return str(default_workspace_path())


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
    lang: str | None = typer.Option(
        None, "--lang", envvar="LTV_LANG", show_default=False,
        help="Language of printed text and error messages for every command: ja or en (env LTV_LANG; default ja). "
             "A command's own --lang wins."),
    excel_safe: bool = typer.Option(False, "--excel-safe", envvar="LTV_EXCEL_SAFE",
                                    help="CSV output (--csv, --out X.csv) for Excel: text cells starting with = + - @ "
                                         "get a leading ' so that they are never run as formulas."),
    wide: bool = typer.Option(False, "--wide", help="Print every column of a table even when it is wider than the "
                              "terminal (by default columns that do not fit are left out, with a note)."),
    encoding: str = typer.Option(
        "utf-8-sig", "--encoding", envvar="LTV_CSV_ENCODING", show_default=True,
        help="Encoding of CSV files written with --out (files for people): utf-8-sig (UTF-8 with a BOM, for Excel), "
             "cp932 (Shift_JIS for older Excel) or utf-8. CSV printed with --csv is always plain UTF-8."),
) -> None:
    """ltvkit: customer lifetime value for e-commerce shops."""
    from ._common import EXCEL_SAFE

    EXCEL_SAFE["on"] = excel_safe
    if lang is not None:
        if not is_lang(lang):
            raise InputError(key="err.unknown_lang", value=lang)
        set_lang(lang)
    set_wide(wide)
    set_csv_encoding(encoding)
    if version:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit(0)
