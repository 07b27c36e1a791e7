"""Act on the predictions: CRM scenarios → a transactional outbox → channels, with per-scenario holdouts.

``actions`` reads the stored results of the pipeline through ``ltvkit.store``; nothing in ``store``,
``features`` or ``models`` imports it. Its own data (outbox, contacts, consent, channel state) lives in the
operational store (:class:`OpsStore`), SQLite beside the workspace or PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import Settings, load_settings
from ._ops import OPS_MIGRATIONS, OpsStore, default_ops_url
from ._ops import inbound as inbound_messages
from .channels import BaseChannel, Delivery, LineChannel, Message, available_channels, register_channel
from .contacts import import_contacts, opt_in, opt_out, set_reachable
from .linking import format_code, issue_link_codes, normalize_code, redeem_code
from .plan import PlanReport, holdout_draw, idempotency_key, plan, quiet_hours_shift
from .results import ResultsReport, compare_groups, crm_results
from .scenarios import Scenario, load_library, load_scenario, load_scenarios, parse_condition, render
from .send import SendReport, backoff_seconds, send
from .status import outbox_frame, status

__all__ = [
    "OPS_MIGRATIONS",
    "BaseChannel",
    "Delivery",
    "LineChannel",
    "Message",
    "OpsStore",
    "PlanReport",
    "ResultsReport",
    "Scenario",
    "SendReport",
    "available_channels",
    "backoff_seconds",
    "compare_groups",
    "crm_results",
    "default_ops_url",
    "holdout_draw",
    "format_code",
    "idempotency_key",
    "import_contacts",
    "inbound_messages",
    "issue_link_codes",
    "load_library",
    "load_scenario",
    "load_scenarios",
    "normalize_code",
    "open_ops_store",
    "opt_in",
    "opt_out",
    "outbox_frame",
    "parse_condition",
    "plan",
    "quiet_hours_shift",
    "redeem_code",
    "register_channel",
    "render",
    "send",
    "set_reachable",
    "status",
]


def open_ops_store(workspace: str | os.PathLike[str] | None = None, settings: Settings | None = None) -> OpsStore:
    """The ops store of a workspace: ``LTV_OPS_DB`` when set, else SQLite beside the workspace file."""
    settings = settings or load_settings(workspace)
    url = settings.secret("ops_db") or default_ops_url(Path(workspace) if workspace else settings.workspace)
    return OpsStore(url)
