"""``ltv crm scenarios | plan | send | run | status | outbox``: act on the predictions through the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import format_number, t
from ._app import app, current_lang
from ._common import (
    DEFAULT_WS,
    AsOfOpt,
    CsvOpt,
    JsonOpt,
    LangOpt,
    OutOpt,
    WorkspaceOpt,
    console,
    emit,
    open_workspace,
    parse_date,
    use_lang,
)

crm_app = typer.Typer(name="crm", no_args_is_help=True,
                      help="CRM scenarios, holdouts and the outbox: plan who is due, send, see what happened.")
app.add_typer(crm_app)

ScenariosOpt = Annotated[
    Path | None,
    typer.Option("--scenarios", help="Directory of the shop's own scenario files (*.yaml), used beside the "
                                     "shipped library (env LTV_CRM_SCENARIOS)."),
]


def _settings(workspace: Path):  # noqa: ANN202
    from ..config import load_settings

    return load_settings(workspace)


def _scenarios(workspace: Path, directory: Path | None) -> dict:
    from ..actions import load_scenarios

    return load_scenarios(directory if directory is not None else _settings(workspace).crm_scenarios)


def _store(workspace: Path):  # noqa: ANN202
    from ..actions import open_ops_store

    return open_ops_store(workspace, _settings(workspace))


@crm_app.command("scenarios")
def scenarios_(workspace: WorkspaceOpt = DEFAULT_WS, scenarios: ScenariosOpt = None, json_: JsonOpt = False,
               lang: LangOpt = None) -> None:
    """List the scenarios: the shipped library and the shop's own (--scenarios DIR), validated.

    \b
    Example:
        ltv crm scenarios --scenarios shop/scenarios
    """
    lang = use_lang(lang)
    found = _scenarios(workspace, scenarios)
    rows = [{"name": s.name, "trigger": s.trigger.kind, "channels": ", ".join(s.channels),
             "holdout": s.holdout, "priority": s.priority, "expires_after_days": s.expires_after_days,
             "languages": ", ".join(s.template), "file": s.path, "description": s.description}
            for s in found.values()]
    if json_:
        emit(rows, json_=True)
    else:
        emit([{k: v for k, v in r.items() if k not in ("description", "file")} for r in rows],
             title=t("cli.crm.title.scenarios", lang))


def _plan(workspace: Path, scenario: list[str] | None, all_: bool, as_of: str | None, run: int | None,
          dry_run: bool, scenarios: Path | None):  # noqa: ANN202
    from ..actions import plan
    from ..exceptions import InputError

    found = _scenarios(workspace, scenarios)
    if scenario and all_:
        raise InputError(key="err.crm_scenario_or_all")
    if scenario:
        unknown = [n for n in scenario if n not in found]
        if unknown:
            raise InputError(key="err.crm_unknown_scenario", name=repr(unknown[0]), known=", ".join(found))
        chosen = [found[n] for n in scenario]
    else:
        chosen = list(found.values())
    day = parse_date(as_of)
    with open_workspace(workspace) as ws, _store(workspace) as store:
        return plan(ws, store, chosen, as_of=day, run_id=run, dry_run=dry_run, explicit=bool(scenario))


def _print_plan(report, json_: bool) -> None:  # noqa: ANN001
    data = report.to_dict()
    if json_:
        emit(data, json_=True)
        return
    rows = [{"scenario": k, "eligible": v["eligible"], "planned": v["planned"], "holdout": v["holdout"],
             "skipped": ", ".join(f"{r} {n:,}" for r, n in v["skipped"].items()),
             "note": v.get("not_planned", "")} for k, v in data["scenarios"].items()]
    lang = current_lang()
    emit(rows, title=t("cli.crm.title.plan_dry_run" if data["dry_run"] else "cli.crm.title.plan", lang,
                       as_of=data["as_of"], run_id=data["run_id"], results_as_of=data["results_as_of"],
                       send_at=data["send_at"]))


@crm_app.command("plan")
def plan_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Plan this scenario (repeatable).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Plan every scenario (the default).")] = False,
    as_of: AsOfOpt = None,
    run: Annotated[int | None, typer.Option("--run", help="Plan from this predictions run (see `ltv runs list`).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be planned; write nothing.")] = False,
    scenarios: ScenariosOpt = None,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Plan who is due for which scenario into the outbox, from the stored results of one pipeline run.

    Applies holdouts (keyed hash), consent, reachability, the frequency cap and quiet hours; planning twice adds
    nothing. --json prints per scenario: eligible, planned, holdout, skipped by reason.

    \b
    Example:
        ltv crm plan --all --as-of 2025-12-31 --json
    """
    use_lang(lang)
    _print_plan(_plan(workspace, scenario, all_, as_of, run, dry_run, scenarios), json_)


def _send(workspace: Path, channel: str | None, limit: int | None, workers: int, scenarios: Path | None,
          wait: bool):  # noqa: ANN202
    from ..actions import send
    from ..exceptions import InputError

    if workers < 1 or workers > 64:
        raise InputError(key="err.crm_workers")
    if limit is not None and limit < 0:
        raise InputError(key="err.crm_limit")
    found = _scenarios(workspace, scenarios)
    with _store(workspace) as store:
        return send(store, _settings(workspace), found, channel=channel, limit=limit, workers=workers, wait=wait)


def _print_send(report, json_: bool) -> None:  # noqa: ANN001
    data = report.to_dict()
    if json_:
        emit(data, json_=True)
        return
    lang = current_lang()
    emit({k: v for k, v in data.items() if k not in ("paused", "failures")}, title=t("cli.crm.title.send", lang))
    for reason, n in data["failures"].items():
        console.print(t("cli.crm.failed", lang, reason=reason, count=format_number(n, lang)), markup=False)
    for ch, why in data["paused"].items():
        console.print(t("cli.crm.channel_paused", lang, channel=ch, reason=why), markup=False)


ChannelOpt = Annotated[str | None, typer.Option("--channel", help="Send on this channel only (e.g. line).")]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Claim at most N messages.")]
WorkersOpt = Annotated[int, typer.Option("--workers", help="Parallel senders in this process.")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Keep going while retries come due within a minute.")]


@crm_app.command("send")
def send_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    channel: ChannelOpt = None,
    limit: LimitOpt = None,
    workers: WorkersOpt = 1,
    scenarios: ScenariosOpt = None,
    wait: WaitOpt = False,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Send the due messages: claim with a lease, re-check opt-outs, render, send, record the answer.

    Transient failures are retried later with exponential backoff; a channel whose quota is exhausted is paused.
    Only the ops store is used, so sending works while the workspace is busy.

    \b
    Example:
        ltv crm send --channel line --workers 2
    """
    use_lang(lang)
    _print_send(_send(workspace, channel, limit, workers, scenarios, wait), json_)


@crm_app.command("run")
def run_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    as_of: AsOfOpt = None,
    scenarios: ScenariosOpt = None,
    channel: ChannelOpt = None,
    limit: LimitOpt = None,
    workers: WorkersOpt = 1,
    json_: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Plan every scenario, then send what is due: one command for cron or a systemd timer (docs/crm.md).

    \b
    Example:
        ltv crm run --workspace shop/ltv.duckdb
    """
    use_lang(lang)
    planned = _plan(workspace, None, True, as_of, None, False, scenarios)
    sent = _send(workspace, channel, limit, workers, scenarios, False)
    if json_:
        emit({"plan": planned.to_dict(), "send": sent.to_dict()}, json_=True)
    else:
        _print_plan(planned, False)
        _print_send(sent, False)


@crm_app.command("status")
def status_(workspace: WorkspaceOpt = DEFAULT_WS, json_: JsonOpt = False, lang: LangOpt = None) -> None:
    """Outbox counts by state, channel and scenario, and any paused channel with its reason."""
    from ..actions import status

    lang = use_lang(lang)
    with _store(workspace) as store:
        data = status(store)
    if json_:
        emit(data, json_=True)
        return
    console.print(t("cli.crm.ops_store", lang, store=data["ops_store"], count=format_number(data["total"], lang)),
                  markup=False)
    states = sorted(data["by_state"])
    rows = [{"scenario": s, **{st: counts.get(st, 0) for st in states}} for s, counts in data["by_scenario"].items()]
    if rows:
        emit(rows, title=t("cli.crm.title.by_scenario", lang))
        emit([{"channel": c, **{st: counts.get(st, 0) for st in states}} for c, counts in data["by_channel"].items()],
             title=t("cli.crm.title.by_channel", lang))
    for ch, info in data["paused_channels"].items():
        console.print(t("cli.crm.channel_paused_until", lang, channel=ch, until=info["until"], reason=info["reason"]),
                      markup=False)


@crm_app.command("outbox")
def outbox_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    scenario: Annotated[str | None, typer.Option("--scenario", help="Only this scenario.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="Only this state (planned, sent, holdout, …).")] = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    out: OutOpt = None,
    lang: LangOpt = None,
) -> None:
    """One row per message: key, customer_key, scenario, channel, state, holdout, planned_at, send_at, sent_at,
    attempts, run_id (times in UTC; no contact data)."""
    from ..actions import outbox_frame

    lang = use_lang(lang)
    with _store(workspace) as store:
        frame = outbox_frame(store, scenario=scenario, state=state)
    emit(frame, json_=json_, csv_=csv_, out=out, title=t("cli.crm.title.outbox", lang))


@crm_app.command("results")
def results_(
    workspace: WorkspaceOpt = DEFAULT_WS,
    scenario: Annotated[str | None, typer.Option("--scenario", help="Only this scenario.")] = None,
    window_days: Annotated[int, typer.Option("--window-days", help="Days after the planned send time.")] = 30,
    as_of: AsOfOpt = None,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    out: OutOpt = None,
    lang: LangOpt = None,
) -> None:
    """Did it work? Per scenario and send month: treated (planned, not held out, whatever happened at sending) vs
    holdout, conversion and margin uplift with 95% intervals, the estimate adjusted on plan-time predictions, the
    minimum detectable effect, and the incremental margin after message costs (docs/measurement.md).

    \b
    Example:
        ltv crm results --window-days 30 --json
    """
    from ..actions import crm_results

    lang = use_lang(lang)
    with open_workspace(workspace) as ws, _store(workspace) as store:
        report = crm_results(ws, store, scenario=scenario, window_days=window_days, as_of=parse_date(as_of),
                             lang=lang, save=not ws.read_only)
    frame = report.frame()
    if json_ or csv_ or out is not None:
        emit(frame, json_=json_, csv_=csv_, out=out,
             meta={"as_of": report.as_of, "window_days": window_days} if json_ else None)
        if not (json_ or csv_):
            for line in report.sentences():
                console.print(line)
        return
    shown = ["scenario", "send_month", "treated", "holdout", "conversion_treated", "conversion_holdout", "uplift",
             "uplift_ci_low", "uplift_ci_high", "adjusted_uplift", "variance_reduction",
             "margin_uplift_per_customer", "incremental_margin_after_cost", "mde"]
    emit(frame[shown], title=t("cli.crm.results_title", lang, as_of=str(report.as_of), days=window_days))
    if len(report.cumulative):
        emit(report.cumulative, title=t("report.crm.cumulative_margin_per_customer_by_days_s", lang))
    if len(report.cohorts):
        emit(report.cohorts.drop(columns=["observational"]),
             title=t("report.crm.acquisition_cohorts_before_after_a_scena", lang))
    for line in report.sentences():
        console.print(line, markup=False)
