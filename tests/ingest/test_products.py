"""`ltv products import`: catalogue files with Japanese or mall headers, stored per SKU, seen by the analyses."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ltvkit import Workspace
from ltvkit.cli import main
from ltvkit.exceptions import InputError
from ltvkit.features import margin_lines
from ltvkit.ingest.products import read_products

ORDERS = """order_id,customer_id,ordered_at,sku,quantity,unit_price,category
A1,c1,2025-01-05 10:00:00,TEA-1,2,1000,drinks
A2,c2,2025-01-06 10:00:00,SOAP-1,1,500,
A3,c1,2025-02-05 10:00:00,SOAP-1,1,500,
"""


def _write_cp932(path, text):
    path.write_bytes(text.encode("cp932"))
    return path


def test_japanese_headers_in_cp932_with_yen_and_full_width_digits(tmp_path):
    path = _write_cp932(tmp_path / "商品マスタ.csv",
                        "商品番号,商品名,カテゴリ,原価,定価\n"
                        "TEA-1,緑茶,飲料,\"￥400\",1000円\n"
                        "SOAP-1,石けん,日用品,１２０,５００\n"
                        "BAD-1,不良,日用品,ききめ,100\n"
                        ",名無し,日用品,10,20\n")
    read = read_products(path)
    assert read.columns == {"sku": "商品番号", "product_name": "商品名", "category": "カテゴリ", "unit_cost": "原価",
                            "list_price": "定価"}
    got = read.products.set_index("sku")
    assert got.loc["TEA-1", "unit_cost"] == 400 and got.loc["TEA-1", "list_price"] == 1000
    assert got.loc["SOAP-1", "unit_cost"] == 120 and got.loc["SOAP-1", "category"] == "日用品"
    assert "BAD-1" not in got.index and read.skipped == 2
    assert read.bad_values == [(4, "原価", "ききめ")]


def test_full_width_and_spaced_headers_match_after_nfkc(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("ＳＫＵ, 販売価格 ,商品カテゴリ\nX1,980,お試し\n", encoding="utf-8-sig")
    read = read_products(path)
    assert read.columns["sku"] == "ＳＫＵ" and read.columns["list_price"].strip() == "販売価格"
    assert read.products.iloc[0].to_dict() == {"sku": "X1", "category": "お試し", "list_price": 980}


def test_shopify_product_export_and_excel_and_parquet(tmp_path):
    shopify = pd.DataFrame({"Handle": ["tea", "tea", "soap"], "Title": ["Tea", None, "Soap"],
                            "Variant SKU": ["TEA-1", None, "SOAP-1"], "Type": ["Drinks", None, "Home"],
                            "Variant Price": ["10.00", None, "5.00"], "Cost per item": ["4.00", None, "1.20"]})
    for path in (tmp_path / "products_export.csv", tmp_path / "p.xlsx", tmp_path / "p.parquet"):
        if path.suffix == ".csv":
            shopify.to_csv(path, index=False)
        elif path.suffix == ".xlsx":
            shopify.to_excel(path, index=False)
        else:
            shopify.to_parquet(path)
        read = read_products(path)
        assert read.columns["category"] == "Type" and read.columns["unit_cost"] == "Cost per item", path
        got = read.products.set_index("sku")
        assert list(got.index) == ["TEA-1", "SOAP-1"] and read.skipped == 1
        assert got.loc["SOAP-1", "unit_cost"] == 1 and got.loc["TEA-1", "category"] == "Drinks"


def test_files_without_sku_or_values_are_refused_in_one_sentence(tmp_path):
    (tmp_path / "a.csv").write_text("name,price\nTea,100\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("sku\nTEA-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no SKU column"):
        read_products(tmp_path / "a.csv")
    with pytest.raises(InputError, match="no cost, category"):
        read_products(tmp_path / "b.csv")


@pytest.fixture
def shop(tmp_path):
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    ws = Workspace(tmp_path / "ltv.duckdb")
    ws.import_orders(tmp_path / "orders.csv", preset="generic")
    yield ws
    ws.close()


def test_catalogue_sets_costs_and_categories_that_the_analyses_see(shop, tmp_path):
    before = shop.orders().to_pandas().set_index("order_id")["category"]
    assert before["A1"] == "drinks" and pd.isna(before["A2"])
    path = _write_cp932(tmp_path / "p.csv", "商品コード,原価,カテゴリ\nSOAP-1,150,日用品\nNEW-1,10,新商品\nTEA-1,,\n")
    result = shop.import_products(path)
    assert (result["updated"], result["added"]) == (2, 1)
    lines = shop.orders().to_pandas().set_index("order_id")
    assert lines.loc["A2", "category"] == "日用品" and lines.loc["A3", "category"] == "日用品"
    assert lines.loc["A1", "category"] == "drinks"  # an empty cell keeps what the workspace had
    cogs = margin_lines(shop.orders(), products=shop.products_with_rows()).to_pandas().set_index("order_id")["cogs"]
    assert cogs["A2"] == 150 and cogs["A1"] == 800  # 150 from the catalogue; tea has no cost: the 40% rate
    assert shop.product_names(["SOAP-1"])["SOAP-1"][1] == "日用品"
    # a later order import keeps the catalogue's category and cost
    shop.import_orders(tmp_path / "orders.csv", preset="generic")
    assert shop.orders().to_pandas().set_index("order_id").loc["A2", "category"] == "日用品"
    assert margin_lines(shop.orders(), products=shop.products_with_rows()).to_pandas() \
        .set_index("order_id").loc["A3", "cogs"] == 150


def test_cli_products_import(tmp_path, capsys):
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    ws_path = str(tmp_path / "ltv.duckdb")
    assert main(["import", str(tmp_path / "orders.csv"), "--workspace", ws_path]) == 0
    path = _write_cp932(tmp_path / "商品.csv", "商品管理番号,原価,カテゴリ\nSOAP-1,150,日用品\n")
    capsys.readouterr()
    assert main(["products", "import", str(path), "--workspace", ws_path, "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    assert "更新 1商品" in out and "unit_cost=原価" in out
    assert main(["products", "import", str(path), "--workspace", ws_path, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["updated"] == 1 and payload["added"] == 0
    (tmp_path / "bad.csv").write_text("name\nTea\n", encoding="utf-8")
    assert main(["products", "import", str(tmp_path / "bad.csv"), "--workspace", ws_path, "--lang", "ja"]) == 1
    err = capsys.readouterr().err
    assert "商品番号（SKU）の列がありません" in err and "Traceback" not in err


def test_order_import_of_a_catalogue_points_to_products_import(tmp_path, capsys):
    path = _write_cp932(tmp_path / "products.csv", "商品番号,原価,カテゴリ\nSOAP-1,150,日用品\n")
    assert main(["import", str(path), "--workspace", str(tmp_path / "ltv.duckdb"), "--lang", "ja"]) == 1
    err = capsys.readouterr().err
    assert "商品マスタ" in err and "ltv products import" in err
