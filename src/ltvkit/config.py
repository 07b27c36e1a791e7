"""Settings declared once: every ``LTV_*`` variable with its type, default and help.

:class:`Settings` is the registry (pydantic-settings). :func:`load_settings` reads it, first match wins:

1. the environment (``LTV_TIMEZONE=...``);
2. for a secret, a file named by ``LTV_<NAME>_FILE`` that only its owner can read;
3. ``ltv.toml`` beside the workspace file (``timezone = "Asia/Tokyo"``; never secrets, never the workspace);
4. the default declared here.

Secrets (:class:`pydantic.SecretStr` fields) come only from the environment or an owner-only file: a secret in
``ltv.toml``, a secret file that other users can read, or both ``LTV_<NAME>`` and ``LTV_<NAME>_FILE`` set is refused with
one sentence. ``ltv settings`` lists every setting with its value (secrets masked), source and help, and
docs/settings.md is kept equal to :func:`settings_markdown` by a test.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from ._defaults import DEFAULT_TIMEZONE
from .exceptions import SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_TIMEZONE",
    "DEFAULT_WORKSPACE",
    "ENV_PREFIX",
    "SETTINGS",
    "TOML_NAME",
    "Setting",
    "Settings",
    "default_workspace_path",
    "env_lang",
    "load_settings",
    "mask",
    "settings_markdown",
]

ENV_PREFIX = "LTV_"
TOML_NAME = "ltv.toml"
DEFAULT_WORKSPACE = "ltv.duckdb"
MASK = "****"


def _field(default: Any, help: str, *, toml: bool = True, shown: str | None = None) -> Any:
    """A registry field: ``help`` is the one-line meaning; ``toml=False`` keeps it out of ltv.toml;
    ``shown`` is the default as documented when the value itself says little (``None``)."""
    extra: dict[str, Any] = {"toml": toml}
    if shown is not None:
        extra["shown"] = shown
    return Field(default, description=help, json_schema_extra=extra)


class Settings(BaseSettings):
    """Every ``LTV_*`` setting ltvkit reads. Read it with :func:`load_settings`, not ``Settings()``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid",
                                      validate_default=True)

    workspace: Path = _field(Path(DEFAULT_WORKSPACE), "Path of the workspace DuckDB file used by every command "
                             "(also `--workspace`); ltv.toml is looked for beside it.", toml=False)
    lang: str = _field("ja", "Language of reports and printed text: ja or en (also `--lang`). It is the reader's "
                       "choice, so it is not read from ltv.toml.", toml=False)
    excel_safe: bool = _field(False, "CSV output for Excel (also `ltv --excel-safe`): text cells starting with "
                              "= + - @ get a leading ' so that Excel never runs them as formulas.", toml=False)
    csv_encoding: str = _field("utf-8-sig", "Encoding of CSV files written with --out, files for people (also "
                               "`ltv --encoding`): utf-8-sig (UTF-8 with a BOM, for Excel), cp932 or utf-8; CSV printed "
                               "with --csv is always plain UTF-8.", toml=False)
    timezone: str = _field(DEFAULT_TIMEZONE, "The shop's wall-clock time zone; order times are converted to it "
                           "once, at import (a workspace created with its own zone keeps it).")
    import_memory: str = _field("2GB", "DuckDB memory limit while importing into a workspace file; work tables "
                                "beyond it spill to disk, so peak memory does not grow with the export.")
    recommend_memory: str = _field("256MB", "DuckDB memory limit while `ltv recommend` reads the order lines "
                                   "of a workspace file and stores the lists; the engine's work beyond it spills "
                                   "to disk, so its share of the peak stays small.")
    predict_memory: str = _field("1GB", "DuckDB memory limit while `ltv predict` summarises the order lines of a "
                                 "workspace file and stores the scores; the engine's work beyond it spills to "
                                 "disk, so the peak stays under 2 GB at millions of customers.")
    report_memory: str = _field("1GB", "DuckDB memory limit while `ltv report` (and the dashboard) build the "
                                "report from a workspace file: the shared order tables and the analyses beyond it "
                                "spill to disk, so the peak stays near 2 GB at millions of customers.")
    identity_secret: SecretStr | None = _field(None, "Secret key of the keyed hash that turns contact data into "
                                               "pseudonymous customer keys. Set it to share keys across "
                                               "workspaces.", shown="generated per workspace")
    line_channel_access_token: SecretStr | None = _field(None, "LINE Messaging API channel access token "
                                                         "(for the LINE channel).", shown="none")
    line_channel_secret: SecretStr | None = _field(None, "LINE channel secret, which signs webhook calls "
                                                   "(for the LINE channel).", shown="none")
    smtp_url: SecretStr | None = _field(None, "SMTP server for e-mail, as smtp://user:password@host:587 "
                                        "(smtps:// for TLS); the password makes the whole URL a secret.",
                                        shown="none")
    ops_db: SecretStr | None = _field(None, "Operational database of the CRM (outbox, contacts, consent): "
                                      "postgresql://user:password@host/db for several senders, else SQLite in WAL "
                                      "mode beside the workspace; the password makes the whole URL a secret.",
                                      shown="<workspace stem>.ops.sqlite beside the workspace")
    crm_scenarios: Path | None = _field(None, "Directory of the shop's own CRM scenario files (*.yaml), used "
                                        "beside the shipped library (also `--scenarios`).", shown="none")
    crm_holdout_share: float = _field(0.10, "Default share of each scenario's eligible customers held out "
                                      "(never sent) to measure its effect; a scenario's `holdout` overrides it.",
                                      )
    crm_frequency_cap: int = _field(2, "At most this many messages per customer within "
                                    "LTV_CRM_FREQUENCY_DAYS (holdout rows count); higher priority wins.")
    crm_frequency_days: int = _field(7, "Length in days of the frequency-cap window.")
    crm_quiet_hours: str = _field("21:00-09:00", "Quiet hours in the shop's time zone, HH:MM-HH:MM; a send "
                                  "time inside them moves to their end.")
    crm_lang: str = _field("ja", "Language of the messages sent to customers: ja or en.")
    crm_shop_name: str = _field("", "The shop's name as messages show it (template variable `shop`).",
                                shown="empty")
    crm_lease_seconds: float = _field(300.0, "How long a sender holds a claimed message; a crashed sender's "
                                      "messages are claimed again after it.")
    crm_max_attempts: int = _field(8, "Send attempts before a message with transient failures is marked failed.")
    crm_retry_base_seconds: float = _field(30.0, "First retry delay after a transient failure; it doubles "
                                           "with each attempt (capped at an hour), with random jitter.")
    crm_cost_line: float = _field(3.0, "Cost in yen of one LINE message (the plan's per-message price), "
                                  "subtracted from a scenario's incremental margin in `ltv crm results`.")
    crm_cost_email: float = _field(0.1, "Cost in yen of one e-mail sent, for `ltv crm results`.")
    crm_cost_print: float = _field(30.0, "Cost in yen of one printed insert (同梱チラシ), for `ltv crm results`.")
    crm_detect_lift: float = _field(0.02, "The conversion lift (0.02 = 2 points) `ltv crm results` says how many "
                                    "more weeks of sends would take to detect.")
    line_api_base: str = _field("https://api.line.me", "Base URL of the LINE Messaging API (a test server "
                                "in tests and benchmarks).")
    line_bot_user_id: str = _field("", "The LINE bot's user ID (the `destination` of webhook calls); when set, a "
                                   "webhook call for another channel is refused.", shown="empty")
    line_add_friend_url: str = _field("", "The shop's LINE add-friend URL (https://line.me/R/ti/p/@…; for Rakuten "
                                      "the R-SNS-issued one), encoded in the QR code of package inserts.",
                                      shown="empty")
    item_url_template: str = _field("", "The shop's item page URL with `{sku}` in it (e.g. "
                                    "https://item.rakuten.co.jp/myshop/{sku}/), used in LINE Flex messages, "
                                    "reorder answers and e-mails.", shown="empty")
    link_code_days: int = _field(60, "Days a one-time LINE linking code (printed on package inserts) stays valid.")
    inserts_external_url: str = _field("auto", "May a package insert print an external URL or QR code (the LINE "
                                       "add-friend URL)? yes, no, or auto: no for Rakuten orders (Rakuten forbids "
                                       "external links unless approved), yes otherwise.")
    inserts_font: Path | None = _field(None, "Font file (.ttf, .otf or .ttc) embedded in package inserts; it must "
                                       "cover Japanese.", shown="Noto Sans CJK (Debian fonts-noto-cjk)")
    mail_from: str = _field("", "Sender address of e-mails, e.g. `Shop <info@example.jp>`.", shown="empty")
    serve_token: SecretStr | None = _field(None, "Bearer token `ltv serve` requires on its pages when bound to a "
                                           "non-loopback host (required there; the LINE webhook and unsubscribe "
                                           "links carry their own signatures).", shown="none")
    serve_public_url: str = _field("http://127.0.0.1:8000", "The public base URL of `ltv serve`, used in the "
                                   "unsubscribe links of e-mails.")
    bench_cache: Path | None = _field(None, "Cache directory of the generated data of "
                                      "bench/recommend_vs_als.py.", shown="<temp dir>/ltv-bench-recommend")

    engine: str = _field("duckdb", "Engine that runs the analytics and scoring (also `--engine`): duckdb (the "
                         "workspace file) or spark (the canonical tables read as Parquet by a Spark session; "
                         "docs/spark.md). Results are stored in the workspace either way.")
    spark_master: str = _field("local[*]", "Spark master URL of the Spark engine: local[N] runs in this process "
                               "with N threads; spark://host:7077, yarn or k8s://… use a cluster.")
    spark_conf: str = _field("", "Extra Spark settings of the Spark engine, key=value pairs separated by ; (e.g. "
                             "spark.driver.memory=8g;spark.sql.shuffle.partitions=200).", shown="empty")
    spark_data: str | None = _field(None, "Folder or URL (hdfs://, s3a:// …) of canonical Parquet (from `ltv publish --parquet` or `ltv "
                                     "import --out-parquet`) that the Spark engine reads instead of exporting the "
                                     "workspace's tables.", shown="the workspace's tables, exported per command")

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _toml_path: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over what load_settings passes in (secret files and ltv.toml); no .env files.
        return env_settings, init_settings

    @field_validator("crm_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError(f"{value!r} is not HH:MM-HH:MM such as 21:00-09:00")
        return value.strip()

    @field_validator("crm_holdout_share")
    @classmethod
    def _share(cls, value: float) -> float:
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{value!r} is not a share between 0 and 1 (0.10 holds out 10%)")
        return value

    @field_validator("inserts_external_url")
    @classmethod
    def _external(cls, value: str) -> str:
        if value not in ("auto", "yes", "no"):
            raise ValueError(f"{value!r} is not auto, yes or no")
        return value

    @field_validator("crm_lang")
    @classmethod
    def _crm_lang(cls, value: str) -> str:
        if value not in ("ja", "en"):
            raise ValueError(f"{value!r} is not ja or en")
        return value

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in ("duckdb", "spark"):
            raise ValueError(f"{value!r} is not duckdb or spark")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Tokyo") from None
        return value

    def source(self, name: str) -> str:
        """Where a setting came from: ``env``, ``file``, ``toml``, ``default`` (or ``option`` for a workspace
        path given to :func:`load_settings`)."""
        return self._sources.get(name, "default")

    @property
    def toml_path(self) -> Path | None:
        """The ltv.toml that was read, or ``None``."""
        return self._toml_path

    def secret(self, name: str) -> str | None:
        """The plain value of a secret setting (``None`` when unset)."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    def rows(self) -> list[dict[str, Any]]:
        """One row per setting: name (the variable), value (secrets masked), source and help."""
        out = []
        for s in SETTINGS:
            value = getattr(self, s.name)
            if s.secret:
                shown: Any = mask(s.name, value.get_secret_value() if value is not None else None)
            else:
                shown = str(value) if isinstance(value, Path) else value
            out.append({"name": s.env_var, "value": shown, "source": self.source(s.name), "help": s.help})
        return out


@dataclass(frozen=True)
class Setting:
    """One declared setting, as documented and listed."""

    name: str
    default: object
    help: str
    secret: bool = False
    toml: bool = True
    shown_default: str | None = None

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def file_var(self) -> str | None:
        """``LTV_<NAME>_FILE`` for a secret, else ``None``."""
        return self.env_var + "_FILE" if self.secret else None

    def value(self, workspace: str | os.PathLike[str] | None = None) -> object:
        """The current value (see :func:`load_settings`)."""
        return getattr(load_settings(workspace), self.name)


def _declare() -> tuple[Setting, ...]:
    out = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        secret = "SecretStr" in str(info.annotation)
        out.append(Setting(name, info.default, info.description or "", secret=secret,
                           toml=bool(extra.get("toml", True)) and not secret,
                           shown_default=extra.get("shown")))  # type: ignore[arg-type]
    return tuple(out)


SETTINGS: tuple[Setting, ...] = _declare()
_BY_NAME = {s.name: s for s in SETTINGS}


def mask(name: str, value: str | None) -> str | None:
    """A secret as it may be shown: ``****``, or for an SMTP URL the URL with its password replaced."""
    if value is None:
        return None
    if name in ("smtp_url", "ops_db"):
        shown, n = re.subn(r"^([a-z][a-z0-9+.-]*://[^:/@]*):[^/?#]*@", rf"\1:{MASK}@", value, flags=re.I)
        return shown if n else MASK
    return MASK


def _workspace_from(environ: Mapping[str, str]) -> Path:
    return Path(environ.get(ENV_PREFIX + "WORKSPACE") or DEFAULT_WORKSPACE)


def env_lang() -> str | None:
    """``LTV_LANG`` as set (unchecked: the caller falls back when it is not a known language), else ``None``."""
    return os.environ.get(ENV_PREFIX + "LANG") or None


def default_workspace_path() -> Path:
    """The workspace path from ``LTV_WORKSPACE``, else ``./ltv.duckdb``."""
    return _workspace_from(os.environ)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(key="err.settings_bad_toml", path=str(path), error=str(exc)) from None
    except OSError as exc:
        raise SettingsError(key="err.settings_unreadable", path=str(path), error=str(exc.strerror)) from None
    values = {}
    for key, value in data.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            known = ", ".join(s.name for s in SETTINGS if s.toml)
            raise SettingsError(key="err.settings_unknown_key", path=str(path), name=key, known=known)
        if setting.secret:
            raise SettingsError(key="err.settings_secret_in_toml", path=str(path), name=key, env=setting.env_var,
                                file=setting.file_var, toml=TOML_NAME)
        if not setting.toml:
            raise SettingsError(key="err.settings_not_in_toml", path=str(path), name=key, toml=TOML_NAME,
                                env=setting.env_var)
        values[key] = value
    return values


def _read_secret_file(setting: Setting, path: Path) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        raise SettingsError(key="err.settings_file_unreadable", var=setting.file_var, path=str(path),
                            error=str(exc.strerror)) from None
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(key="err.settings_file_open", var=setting.file_var, path=str(path),
                            mode=f"{stat.S_IMODE(info.st_mode):o}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(key="err.settings_file_unreadable", var=setting.file_var, path=str(path),
                            error=str(exc)) from None
    return text.rstrip("\r\n")


def load_settings(workspace: str | os.PathLike[str] | None = None, *, toml: bool = True) -> Settings:
    """Read every setting: environment > owner-only secret file > ltv.toml beside the workspace > default.

    Parameters
    ----------
    workspace
        The workspace file whose neighbouring ``ltv.toml`` is read (default: ``LTV_WORKSPACE`` or
        ``./ltv.duckdb``). When given, it is also the ``workspace`` value (source ``option`` when it differs
        from ``LTV_WORKSPACE`` and the default).
    toml
        Read ``ltv.toml`` at all (``False`` for an in-memory workspace).

    Raises
    ------
    SettingsError
        A value that does not fit its type, a secret in ltv.toml, an open secret file, or a secret set twice.
    """
    environ = os.environ
    ws_path = Path(workspace) if workspace is not None else _workspace_from(environ)
    from_env = EnvSettingsSource(Settings)()
    sources = {name: "env" for name in from_env}
    passed: dict[str, Any] = {}

    toml_path = ws_path.parent / TOML_NAME
    if toml and toml_path.is_file():
        for key, value in _read_toml(toml_path).items():
            passed[key] = value
            sources.setdefault(key, "toml")
    else:
        toml_path = None

    for setting in SETTINGS:
        file_name = environ.get(setting.file_var or "") if setting.secret else None
        if not file_name:
            continue
        if setting.name in from_env:
            raise SettingsError(key="err.settings_both", env=setting.env_var, file=setting.file_var)
        passed[setting.name] = _read_secret_file(setting, Path(file_name))
        sources[setting.name] = "file"

    try:
        settings = Settings(**passed)
    except ValidationError as exc:
        raise _invalid(exc, sources, toml_path) from None
    if workspace is not None and ws_path != settings.workspace:  # an explicit path wins, as --workspace does
        settings.workspace = ws_path
        sources["workspace"] = "option"
    settings._sources = sources
    settings._toml_path = toml_path
    return settings


def _invalid(exc: ValidationError, sources: dict[str, str], toml_path: Path | None) -> SettingsError:
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else "?"
    setting = _BY_NAME.get(name)
    source = sources.get(name, "")
    label = setting.env_var if setting else name
    message = str(err["msg"]).removeprefix("Value error, ")
    if source == "toml":
        return SettingsError(key="err.settings_invalid_toml", name=label, path=str(toml_path), error=message)
    return SettingsError(key=f"err.settings_invalid_{source or 'default'}", name=label, error=message)


def settings_markdown() -> str:
    """The table of docs/settings.md, generated from the registry."""
    lines = ["| variable | default | ltv.toml | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        if s.shown_default is not None:
            default = f"({s.shown_default})"
        else:
            default = f"`{s.default}`"
        var = f"`{s.env_var}`" + (f" or `{s.file_var}`" if s.secret else "")
        in_toml = "yes" if s.toml else ("never (secret)" if s.secret else "no")
        lines.append(f"| {var} | {default} | {in_toml} | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(settings_markdown(), end="")
