"""The Spark engine: one local or cluster Spark session per process, and canonical Parquet registered in it.

The analytics are Ibis expressions over the canonical tables (``order_lines``, ``products``); with the Spark
engine those tables come from Parquet (a workspace exported with :meth:`Workspace.publish_parquet`, or files
written by ``ltv import --out-parquet``) read by Spark, and the same expressions run there. Results still go to
the workspace, which stays the result store.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import ibis

from ..exceptions import InputError, StoreError
from .schema import ORDER_LINES, PRODUCTS

__all__ = ["ENGINES", "parse_spark_conf", "spark_available", "spark_backend", "stop_spark"]

ENGINES = ("duckdb", "spark")

# one session per process: start-up takes seconds, and every command of a test run can share it
_SESSIONS: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

# what a local session needs to be quick and quiet (a cluster keeps its own); LTV_SPARK_CONF overrides any of them
_LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    # order_month=2024-01 is a partition name, not a date to guess a type for
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


def spark_available() -> str | None:
    """``None`` when PySpark and Java are there, else the reason the Spark engine cannot start."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install 'ltvkit[spark]')"
    import os

    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (PySpark needs Java 17)"
    return None


def parse_spark_conf(text: str | None) -> dict[str, str]:
    """``key=value`` pairs separated by ``;`` (LTV_SPARK_CONF) as a dict; one sentence on a malformed pair."""
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(key="err.spark_conf", value=part)
        out[key.strip()] = value.strip()
    return out


def _local_memory() -> dict[str, str]:
    """Heap of a local session's JVM: a quarter of the machine's memory (1 to 16 GiB; Spark's own default is
    1 GiB), half of it for results collected to the driver. A local session is the whole engine, and the
    per-customer tables a command stores come back through the driver: at millions of customers 1 GiB fails."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 4 * 2 ** 30
    gib = max(1, min(16, total // 4 // 2 ** 30))
    return {"spark.driver.memory": f"{gib}g", "spark.driver.maxResultSize": f"{max(1, gib // 2)}g"}


def spark_session(master: str, conf: dict[str, str] | None = None) -> Any:
    """The process's Spark session for ``master`` with ``conf`` (started once, then shared)."""
    reason = spark_available()
    if reason is not None:
        raise StoreError(key="err.spark_unavailable", reason=reason)
    local = master.startswith("local")
    defaults = {**_LOCAL_DEFAULTS, **_local_memory(),
                "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "ltv-spark-warehouse")}
    settings = {**(defaults if local else {"spark.sql.session.timeZone": "UTC"}), **(conf or {})}
    key = (master, tuple(sorted(settings.items())))
    if key not in _SESSIONS:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.master(master).appName("ltvkit")
        for k, v in settings.items():
            builder = builder.config(k, v)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _SESSIONS[key] = session
    return _SESSIONS[key]


def stop_spark() -> None:
    """Stop the sessions this process started."""
    for session in _SESSIONS.values():
        session.stop()
    _SESSIONS.clear()


def spark_backend(data_dir: str | Path, *, master: str, conf: dict[str, str] | None = None) -> Any:
    """An Ibis PySpark backend with the canonical Parquet under ``data_dir`` registered as tables.

    ``data_dir`` is a local folder or a URL Spark reads (``hdfs://``, ``s3a://`` …). ``data_dir/order_lines``
    (Parquet parts, optionally in ``order_month=YYYY-MM`` folders) is required; ``data_dir/products`` is used
    when present (without it the lines' own categories and costs count).
    """
    root = str(data_dir).rstrip("/")
    local = "://" not in root
    if local and not (Path(root) / "order_lines").exists():
        raise InputError(key="err.parquet_no_order_lines", path=root)
    session = spark_session(master, conf)
    # Ibis sets the session time zone to UTC: naive order times and the calendar's windows then compare as wall
    # clock times, whatever the machine's zone (docs/spark.md)
    con = ibis.pyspark.connect(session)
    _register(session, f"{root}/order_lines", "order_lines", [c.name for c in ORDER_LINES])
    products = Path(root) / "products"
    if local and not (products.exists() and any(products.rglob("*.parquet"))):
        session.catalog.dropTempView("products")  # no catalogue here: the lines' own categories and costs count
    else:
        try:
            _register(session, f"{root}/products", "products", [c.name for c in PRODUCTS])
        except Exception:  # a remote folder without products/ (Spark's AnalysisException: path does not exist)
            session.catalog.dropTempView("products")
    return con


def _register(session: Any, path: str, name: str, columns: list[str]) -> None:
    df = session.read.parquet(path)
    df.select(*columns).createOrReplaceTempView(name)
