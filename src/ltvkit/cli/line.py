"""``ltv line inbox | reply``: the messages customers sent the shop's LINE account, and answers to them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import t
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, use_lang

line_app = typer.Typer(name="line", no_args_is_help=True,
                       help="LINE two-way: read what customers sent (ltv line inbox) and answer (ltv line reply).")
app.add_typer(line_app)


def _store(workspace: Path):  # noqa: ANN202
    from ..actions import open_ops_store
    from ..config import load_settings

    return open_ops_store(workspace, load_settings(workspace))


@line_app.command("inbox")
def inbox_(
    all_: Annotated[bool, typer.Option("--all", help="Also messages already answered.")] = False,
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """List inbound LINE messages and reorder requests not answered yet, newest first.

    \b
    Example:
        ltv line inbox --json
    """
    from ..actions.webhook import inbox

    lang = use_lang(lang)
    with _store(workspace) as store:
        rows = inbox(store, all_=all_)
    if not rows and not json_:
        console.print(t("cli.line.no_inbound", lang), markup=False)
        return
    emit(rows, json_=json_, title=t("cli.line.title.inbox", lang))


@line_app.command("reply")
def reply_(
    key: Annotated[str, typer.Argument(help="The inbound message's key (from `ltv line inbox`).")],
    text: Annotated[str, typer.Argument(help="The answer.")],
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: LangOpt = None,
) -> None:
    """Answer an inbound LINE message (a push with a retry key: running it twice sends it once).

    \b
    Example:
        ltv line reply 3fa2c1d0 "お問い合わせありがとうございます。"
    """
    from ..actions.channels import LineChannel
    from ..actions.webhook import reply_inbound
    from ..config import load_settings
    from ..exceptions import DeliveryError

    lang = use_lang(lang)
    settings = load_settings(workspace)
    line = LineChannel.from_settings(settings)
    try:
        with _store(workspace) as store:
            d = reply_inbound(store, line, key, text)
    finally:
        line.close()
    if not d.ok:
        raise DeliveryError(key="err.line_reply_refused", answer=str(d.answer), channel="line",
                            retryable=d.retryable)
    console.print(t("cli.line.replied", lang, key=key), markup=False)
