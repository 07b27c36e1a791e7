"""Settings declared once: name, default and help, read from ``LTV_*`` environment variables.

Secrets are never read from a file, only from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_TIMEZONE", "DEFAULT_WORKSPACE", "SETTINGS", "Setting", "default_workspace_path"]

DEFAULT_WORKSPACE = "ltv.duckdb"
DEFAULT_TIMEZONE = "Asia/Tokyo"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str

    @property
    def env_var(self) -> str:
        return "LTV_" + self.name.upper()

    def value(self) -> object:
        raw = os.environ.get(self.env_var)
        if raw is None:
            return self.default
        if isinstance(self.default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(self.default, int):
            return int(raw)
        if isinstance(self.default, float):
            return float(raw)
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("workspace", DEFAULT_WORKSPACE, "Path of the workspace DuckDB file used by every command."),
    Setting("timezone", DEFAULT_TIMEZONE, "The shop's wall-clock time zone; order times are converted to it once, at import."),
    Setting("lang", "ja", "Language of reports and printed text: ja or en."),
)


def default_workspace_path() -> Path:
    """The workspace path from ``LTV_WORKSPACE``, else ``./ltv.duckdb``."""
    return Path(os.environ.get("LTV_WORKSPACE") or DEFAULT_WORKSPACE)
