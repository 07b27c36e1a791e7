"""One Spark session (local[2]) for every Spark test, and the demo shop imported once, as `ltv demo` does."""

from __future__ import annotations

import os
import shutil

import pytest

from ltvkit import Workspace
from ltvkit.store import spark_available, stop_spark
from ltvkit.synth import generate_shop, write_export

# the session every Spark test and every `--engine spark` command of this process shares
SPARK_ENV = {"LTV_SPARK_MASTER": "local[2]", "LTV_SPARK_CONF": "spark.sql.shuffle.partitions=2"}


def pytest_collection_modifyitems(items):
    reason = spark_available()
    if reason is None:
        return
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"Spark tests need PySpark and Java: {reason}"))


@pytest.fixture(scope="session")
def spark_env():
    """LTV_SPARK_* for the tests' session (local[2], two shuffle partitions), restored afterwards, and the session
    stopped after the last Spark test."""
    old = {k: os.environ.get(k) for k in SPARK_ENV}
    os.environ.update(SPARK_ENV)
    yield SPARK_ENV
    stop_spark()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory):
    """The demo's shop at 300 customers: its mall export imported, its product catalogue, its acquisition costs."""
    root = tmp_path_factory.mktemp("spark-demo")
    shop = generate_shop(customers=300, seed=0)
    files = write_export(shop, root / "exports")
    path = root / "ltv.duckdb"
    with Workspace(path) as ws:
        ws.import_orders(files if len(files) > 1 else files[0])
        ws.upsert_products(shop.catalog[["sku", "product_name", "category", "unit_cost"]])
    costs = shop.save(root / "truth") / "acquisition_costs.csv"
    return {"workspace": path, "costs": costs, "root": root}


@pytest.fixture(scope="session")
def engine_workspaces(demo_shop):
    """Two copies of the demo workspace: one the DuckDB commands write their runs to, one the Spark commands."""
    out = {}
    for engine in ("duckdb", "spark"):
        path = demo_shop["root"] / f"{engine}.duckdb"
        shutil.copyfile(demo_shop["workspace"], path)
        out[engine] = path
    return out
