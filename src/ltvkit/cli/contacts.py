"""``ltv contacts import | optout | optin``: contact data and consent, kept only in the ops store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import format_number
from ..i18n import t as _t
from ._app import app
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, open_workspace, use_lang

contacts_app = typer.Typer(name="contacts", no_args_is_help=True,
                           help="Contacts (LINE user IDs, e-mail) and consent, kept in the ops store only.")
app.add_typer(contacts_app)


def _store(workspace: Path):  # noqa: ANN202
    from ..actions import open_ops_store
    from ..config import load_settings

    return open_ops_store(workspace, load_settings(workspace))


@contacts_app.command("import")
def import_(
    file: Annotated[Path | None, typer.Argument(help="CSV or Parquet: customer_key plus any of line_user_id, email, "
                                                     "opt_out, consent_source.")] = None,
    from_workspace: Annotated[bool, typer.Option("--from-workspace", help="Also take the e-mail addresses an "
                                                 "import kept with `ltv import --keep-contacts`.")] = False,
    source: Annotated[str, typer.Option("--source", help="How these contacts were obtained (recorded).")] = "file",
    workspace: WorkspaceOpt = DEFAULT_WS,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Store contacts and consent in the ops store; prints counts only, never the data.

    \b
    Example:
        ltv contacts import line_ids.csv --source line-login
    """
    from ..actions import import_contacts
    from ..exceptions import InputError

    lang = use_lang(lang)
    if file is None and not from_workspace:
        raise InputError(key="err.contacts_no_source")
    totals = {"contacts": 0, "opt_outs": 0, "opt_ins": 0}
    with _store(workspace) as store:
        if from_workspace:
            with open_workspace(workspace, read_only=True) as ws:
                t = ws.table("contacts")
                frame = t.filter(t.email.notnull()).select("customer_key", "email").to_pandas()
            frame = frame.drop_duplicates("customer_key", keep="last")
            for k, v in import_contacts(store, frame, source="workspace").items():
                totals[k] += v
        if file is not None:
            for k, v in import_contacts(store, file, source=source).items():
                totals[k] += v
    if json_:
        emit(totals, json_=True)
    else:
        console.print(_t("cli.contacts.imported", lang, contacts=format_number(totals["contacts"], lang),
                         opt_outs=format_number(totals["opt_outs"], lang),
                         opt_ins=format_number(totals["opt_ins"], lang)), markup=False)


ChannelOpt = Annotated[str, typer.Option("--channel", help="One channel (line, email, …) or all.")]


@contacts_app.command("optout")
def optout(
    key: Annotated[str, typer.Argument(help="The customer key.")],
    channel: ChannelOpt = "all",
    source: Annotated[str, typer.Option("--source", help="How the opt-out reached the shop.")] = "cli",
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: LangOpt = None,
) -> None:
    """Record an opt-out in the consent ledger: nothing more is sent on that channel, planned messages included."""
    from ..actions import opt_out

    lang = use_lang(lang)
    with _store(workspace) as store:
        opt_out(store, key, channel=channel, source=source)
    console.print(_t("cli.contacts.opted_out", lang, key=key, channel=_channel(channel, lang)), markup=False)


@contacts_app.command("optin")
def optin(
    key: Annotated[str, typer.Argument(help="The customer key.")],
    channel: ChannelOpt = "all",
    source: Annotated[str, typer.Option("--source", help="How the consent was given.")] = "cli",
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: LangOpt = None,
) -> None:
    """Record consent (an opt-in) in the consent ledger."""
    from ..actions import opt_in

    lang = use_lang(lang)
    with _store(workspace) as store:
        opt_in(store, key, channel=channel, source=source)
    console.print(_t("cli.contacts.opted_in", lang, key=key, channel=_channel(channel, lang)), markup=False)


def _channel(channel: str, lang: str) -> str:
    """The channel as people read it (``all`` is every channel)."""
    return _t("cli.contacts.all_channels", lang) if channel == "all" else channel
