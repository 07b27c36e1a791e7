"""`ltv --lang ja …` speaks Japanese, errors included; `--lang en` English; a command's own --lang wins."""

from __future__ import annotations

import re

import pytest
import typer.main

from ltvkit import Workspace
from ltvkit.cli import app, main
from ltvkit.cli._docs import leaf_commands

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _no_lang_env(monkeypatch):
    monkeypatch.delenv("LTV_LANG", raising=False)


@pytest.fixture
def empty_ws(tmp_path):
    path = tmp_path / "empty.duckdb"
    Workspace(path).close()
    return str(path)


def _error(capsys, args):
    rc = main(args)
    err = capsys.readouterr().err.strip()
    assert rc == 1, (args, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("args, words", [
    (["info", "-w", "{missing}"], "ワークスペースがありません"),
    (["summary", "-w", "{empty}"], "ワークスペースにまだ注文がありません"),
    (["predict", "-w", "{empty}", "--as-of", "yesterday"], "--as-of の「yesterday」は日付として読めません"),
    (["report", "-w", "{empty}", "--as-of", "2024-13-01"], "日付として読めません"),
    (["cohorts", "-w", "{empty}", "--metric", "height"], "コホートの指標「height」はありません"),
    (["recommend", "-w", "{empty}", "--k", "0"], "--k は1以上にしてください"),
    (["demo", "--mall", "amazon"], "モール「amazon」には対応していません"),
    (["import", "a.csv", "b.csv", "c.csv", "-w", "{missing}"], "ファイルは1つ"),
    (["validate", "-w", "{missing}"], "ワークスペースがありません"),
])
def test_mistakes_are_one_japanese_sentence(capsys, tmp_path, empty_ws, args, words):
    args = [a.format(missing=tmp_path / "none.duckdb", empty=empty_ws) for a in args]
    err = _error(capsys, ["--lang", "ja", *args])
    assert err.startswith("エラー: ") and words in err


def test_english_when_asked(capsys, tmp_path):
    err = _error(capsys, ["--lang", "en", "predict", "-w", str(tmp_path / "none.duckdb")])
    assert err.startswith("Error: No workspace at") and not JAPANESE.search(err)


def test_japanese_by_default_and_from_the_environment(capsys, tmp_path, monkeypatch):
    missing = str(tmp_path / "none.duckdb")
    assert _error(capsys, ["info", "-w", missing]).startswith("エラー: ")
    monkeypatch.setenv("LTV_LANG", "en")
    assert _error(capsys, ["info", "-w", missing]).startswith("Error: ")


def test_the_command_option_wins_over_the_global_one(capsys, tmp_path, monkeypatch):
    missing = str(tmp_path / "none.duckdb")
    assert _error(capsys, ["--lang", "en", "info", "--lang", "ja", "-w", missing]).startswith("エラー: ")
    monkeypatch.setenv("LTV_LANG", "ja")
    assert _error(capsys, ["info", "--lang", "en", "-w", missing]).startswith("Error: ")


def test_an_unknown_language_is_refused(capsys):
    assert _error(capsys, ["--lang", "fr", "info"]) == \
        "エラー: 言語「fr」には対応していません。--lang ja か --lang en を指定してください。"


def test_printed_output_follows_the_language(capsys, empty_ws):
    assert main(["--lang", "ja", "info", "-w", empty_ws]) == 0
    out = capsys.readouterr().out
    assert "ワークスペースの内容" in out and "注文がまだありません" in out
    assert main(["info", "-w", empty_ws, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "ltv workspace" in out and "No orders yet" in out and not JAPANESE.search(out)


def test_every_command_takes_lang():
    group = typer.main.get_command(app)
    assert "--lang" in {o for p in group.params for o in p.opts}
    for name, command in leaf_commands(group):
        assert "--lang" in {o for p in command.params for o in p.opts}, f"ltv {name} has no --lang"


@pytest.mark.parametrize("args, words", [
    (["predict", "--modle", "x"], "オプション --modle はありません（候補: --model）。"),
    (["import"], "引数 FILES を指定してください。"),
    (["recommend", "--k", "abc"], "--k の値が正しくありません"),
])
def test_command_line_mistakes_are_japanese_too(capsys, args, words):
    assert main(["--lang", "ja", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"使い方は `ltv {args[0]} --help` で確認できます。" in err
    assert err.strip().splitlines()[-1].startswith("エラー: ") and words in err


def test_command_line_mistakes_in_english(capsys):
    assert main(["--lang", "en", "predict", "--modle", "x"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "Error: No such option: --modle (possible options: --model)."
    assert "Try 'ltv predict --help' for help." in err and not JAPANESE.search(err)
