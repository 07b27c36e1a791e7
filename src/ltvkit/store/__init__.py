"""The store owns the data: the canonical schema, the migrations and every SQL connection (the workspace).

Ingest writes through it, features read Ibis tables from it, and the pipeline stores each result in it under a
run. Nothing outside ``store`` and ``ingest`` holds a DuckDB connection or writes SQL.
"""

from . import _reads as reads
from ._snapshot import WorkspaceSnapshot
from ._spark import ENGINES, parse_spark_conf, spark_available, stop_spark
from ._workspace import EngineError, Run, Workspace, engine_error_key
from .migrations import MIGRATIONS, Migration, applied_migrations, migrate, pending_migrations

__all__ = ["ENGINES", "MIGRATIONS", "EngineError", "Migration", "Run", "Workspace", "WorkspaceSnapshot",
           "applied_migrations", "engine_error_key", "migrate", "parse_spark_conf", "pending_migrations", "reads",
           "spark_available", "stop_spark"]
