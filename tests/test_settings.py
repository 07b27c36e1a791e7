"""The settings registry: precedence, secrets (masking, files, never ltv.toml) and docs kept equal to it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ltvkit import Workspace
from ltvkit.cli import main
from ltvkit.config import SETTINGS, TOML_NAME, load_settings, mask, settings_markdown
from ltvkit.exceptions import SettingsError

ROOT = Path(__file__).resolve().parents[1]
NAMES = {s.env_var for s in SETTINGS} | {s.file_var for s in SETTINGS if s.secret}
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def _shop(tmp_path: Path, toml: str | None = None) -> Path:
    if toml is not None:
        (tmp_path / TOML_NAME).write_text(toml, encoding="utf-8")
    return tmp_path / "ltv.duckdb"


def _secret_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_precedence_env_over_toml_over_default(tmp_path, monkeypatch):
    ws = _shop(tmp_path)
    s = load_settings(ws)
    assert (s.timezone, s.source("timezone")) == ("Asia/Tokyo", "default")
    assert (s.import_memory, s.source("import_memory")) == ("2GB", "default")

    _shop(tmp_path, 'timezone = "Europe/Berlin"\nimport_memory = "3GB"\n')
    s = load_settings(ws)
    assert (s.timezone, s.source("timezone")) == ("Europe/Berlin", "toml")
    assert s.toml_path == tmp_path / TOML_NAME

    monkeypatch.setenv("LTV_TIMEZONE", "America/New_York")
    s = load_settings(ws)
    assert (s.timezone, s.source("timezone")) == ("America/New_York", "env")
    assert (s.import_memory, s.source("import_memory")) == ("3GB", "toml")


def test_toml_is_read_beside_the_workspace_only(tmp_path, monkeypatch):
    (tmp_path / "shop").mkdir()
    _shop(tmp_path, 'timezone = "Europe/Berlin"\n')
    assert load_settings(tmp_path / "shop" / "ltv.duckdb").timezone == "Asia/Tokyo"
    assert load_settings(tmp_path / "ltv.duckdb", toml=False).timezone == "Asia/Tokyo"
    monkeypatch.setenv("LTV_WORKSPACE", str(tmp_path / "ltv.duckdb"))
    s = load_settings()
    assert (s.timezone, s.workspace, s.source("workspace")) == ("Europe/Berlin", tmp_path / "ltv.duckdb", "env")


def test_workspace_reads_its_settings(tmp_path, monkeypatch):
    path = _shop(tmp_path, 'timezone = "Europe/Berlin"\nimport_memory = "3GB"\n')
    with Workspace(path) as ws:
        assert ws.timezone == "Europe/Berlin"
        assert ws.settings().import_memory == "3GB"
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "shared")
    with Workspace(path) as ws:
        assert ws.identity_secret() == b"shared"
    with Workspace() as ws:  # in memory: no ltv.toml, the environment still counts
        assert ws.timezone == "Asia/Tokyo"
        assert ws.identity_secret() == b"shared"


def test_bad_value_is_one_sentence_naming_variable_and_source(tmp_path, monkeypatch):
    monkeypatch.setenv("LTV_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match=r"^LTV_TIMEZONE from the environment cannot be used: 'Mars/Olympus' "):
        load_settings(_shop(tmp_path))
    monkeypatch.delenv("LTV_TIMEZONE")
    with pytest.raises(SettingsError, match=re.escape(f"LTV_TIMEZONE from {tmp_path / TOML_NAME} cannot be used")):
        load_settings(_shop(tmp_path, "timezone = 9\n"))


@pytest.mark.parametrize("key", [s.name for s in SETTINGS if s.secret])
def test_secrets_in_toml_are_refused(tmp_path, key):
    ws = _shop(tmp_path, f'{key} = "s3cret"\n')
    with pytest.raises(SettingsError, match=f"holds the secret '{key}'; secrets are read only from the environment"):
        load_settings(ws)


@pytest.mark.parametrize(("toml", "message"), [
    ('workspace = "other.duckdb"\n', "'workspace', which ltv.toml cannot set; use LTV_WORKSPACE"),
    ('lang = "en"\n', "'lang', which ltv.toml cannot set; use LTV_LANG"),
    ('time_zone = "Asia/Tokyo"\n', "'time_zone', which is not a setting"),
    ("timezone = \n", "is not valid TOML"),
])
def test_toml_refusals(tmp_path, toml, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(_shop(tmp_path, toml))


@posix_only
def test_secret_from_an_owner_only_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LTV_IDENTITY_SECRET_FILE", str(_secret_file(tmp_path, "from-file\n", 0o600)))
    s = load_settings(_shop(tmp_path))
    assert (s.secret("identity_secret"), s.source("identity_secret")) == ("from-file", "file")
    with Workspace(_shop(tmp_path)) as ws:
        assert ws.identity_secret() == b"from-file"


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_secret_file_open_to_others_is_refused(tmp_path, monkeypatch, mode):
    path = _secret_file(tmp_path, "from-file", mode)
    monkeypatch.setenv("LTV_LINE_CHANNEL_SECRET_FILE", str(path))
    with pytest.raises(SettingsError) as info:
        load_settings(_shop(tmp_path))
    assert str(info.value) == (f"LTV_LINE_CHANNEL_SECRET_FILE={path} is open to other users (mode {mode:o}); a secret "
                               f"file must be readable by its owner alone, so run `chmod 600 {path}`.")


@posix_only
def test_secret_set_twice_or_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "env")
    monkeypatch.setenv("LTV_IDENTITY_SECRET_FILE", str(_secret_file(tmp_path, "file", 0o600)))
    with pytest.raises(SettingsError, match="^Both LTV_IDENTITY_SECRET and LTV_IDENTITY_SECRET_FILE are set"):
        load_settings(_shop(tmp_path))
    monkeypatch.delenv("LTV_IDENTITY_SECRET")
    monkeypatch.setenv("LTV_IDENTITY_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="^Cannot read LTV_IDENTITY_SECRET_FILE="):
        load_settings(_shop(tmp_path))


def test_secrets_are_masked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "hush-identity")
    monkeypatch.setenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", "hush-token")
    monkeypatch.setenv("LTV_SMTP_URL", "smtp://shop:hush-password@mail.example.jp:587")
    s = load_settings(_shop(tmp_path))
    rows = {r["name"]: r for r in s.rows()}
    assert rows["LTV_IDENTITY_SECRET"]["value"] == "****"
    assert rows["LTV_LINE_CHANNEL_ACCESS_TOKEN"]["value"] == "****"
    assert rows["LTV_LINE_CHANNEL_SECRET"]["value"] is None
    assert rows["LTV_SMTP_URL"]["value"] == "smtp://shop:****@mail.example.jp:587"
    assert "hush" not in repr(s) and "hush" not in str(s.model_dump())

    for args in (["settings", "--json"], ["settings"]):
        assert main([*args, "--workspace", str(_shop(tmp_path))]) == 0
        out = capsys.readouterr().out
        assert "hush" not in out and "LTV_SMTP_URL" in out
    assert main(["settings", "--json"]) == 0
    data = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert data["LTV_SMTP_URL"] == rows["LTV_SMTP_URL"]
    assert set(data) == {s.env_var for s in SETTINGS}
    assert data["LTV_TIMEZONE"]["source"] == "default"


def test_mask_of_smtp_url_without_password():
    assert mask("smtp_url", "smtp://mail.example.jp:25") == "****"
    assert mask("smtp_url", "smtps://a%40b.jp:p@ss:w@rd@mail.example.jp") == "smtps://a%40b.jp:****@mail.example.jp"
    assert mask("identity_secret", None) is None


def test_cli_reports_a_bad_setting_as_one_sentence(tmp_path, capsys):
    assert main(["settings", "--workspace", str(_shop(tmp_path, 'identity_secret = "x"\n'))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "holds the secret 'identity_secret'" in err and "Traceback" not in err


# -- docs/settings.md and the code agree with the registry ---------------------------------------------------

def test_settings_doc_table_is_the_registry():
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in text.splitlines() if line.startswith("|")) + "\n"
    assert table == settings_markdown(), "docs/settings.md is stale: paste `PYTHONPATH=src python -m ltvkit.config`"
    for s in SETTINGS:
        assert s.help and (s.shown_default or s.default is not None), s.name


def test_every_ltv_variable_in_docs_and_code_is_declared():
    mentioned: dict[str, set[str]] = {}
    files = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("src/**/*.py"), *ROOT.glob("bench/*.py")]
    for path in files:
        for name in re.findall(r"\bLTV_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")):
            mentioned.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    undeclared = {n: sorted(p) for n, p in mentioned.items() if n not in NAMES}
    assert not undeclared, f"LTV_* variables not in ltvkit.config.Settings: {undeclared}"


def test_only_the_registry_reads_ltv_variables_from_the_environment():
    pattern = re.compile(r"(environ|getenv)\b[^\n]*LTV_")
    offenders = [str(p.relative_to(ROOT)) for p in [*ROOT.glob("src/**/*.py"), *ROOT.glob("bench/*.py")]
                 if p.name != "config.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders, f"read LTV_* through ltvkit.config.load_settings instead: {offenders}"
