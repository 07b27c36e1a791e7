from pathlib import Path

from ltvkit.ingest._docs import render_data_model


def test_data_model_doc_is_current():
    doc = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"
    assert doc.read_text(encoding="utf-8") == render_data_model(), (
        "docs/data-model.md is stale: run `python -m ltvkit.ingest._docs > docs/data-model.md`")
