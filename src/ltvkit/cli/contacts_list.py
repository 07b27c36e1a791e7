"""``ltv contacts list``: per customer, the channels known, reachability, LINE link time and opt-outs."""

from __future__ import annotations

from ..i18n import t
from ._common import DEFAULT_WS, JsonOpt, LangOpt, WorkspaceOpt, console, emit, use_lang
from .contacts import _store, contacts_app


@contacts_app.command("list")
def list_(workspace: WorkspaceOpt = DEFAULT_WS, json_: JsonOpt = False, lang: LangOpt = None) -> None:
    """List customers with contacts: channels with an address, reachable ones, LINE link time, opt-outs
    (never the addresses themselves).

    \b
    Example:
        ltv contacts list --json
    """
    from ..actions.reach import contact_rows

    lang = use_lang(lang)
    with _store(workspace) as store:
        rows = contact_rows(store)
    if json_:
        emit(rows, json_=True)
        return
    if not rows:
        console.print(t("cli.contacts.none", lang), markup=False)
        return
    emit([{**r, **{k: ", ".join(r[k]) for k in ("channels", "reachable", "unreachable", "opted_out")}}
          for r in rows], title=t("cli.contacts.title.list", lang))
