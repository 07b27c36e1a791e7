from ltvkit.cli import main


def test_missing_workspace_is_one_sentence(tmp_path, capsys):
    rc = main(["--lang", "en", "info", "--workspace", str(tmp_path / "none.duckdb")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("Error: No workspace at")
    assert "Traceback" not in err


def test_info_json_on_empty_workspace(tmp_path, capsys):
    import json

    from ltvkit import Workspace

    Workspace(tmp_path / "w.duckdb").close()
    assert main(["info", "--workspace", str(tmp_path / "w.duckdb"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["order_lines"] == 0 and data["sources"] == []
