"""The store owns the data: the canonical schema, the migrations and every SQL connection (the workspace).

Ingest writes through it, features read Ibis tables from it, and the pipeline stores each result in it under a
run. Nothing outside ``store`` and ``ingest`` holds a DuckDB connection or writes SQL.
"""

from . import _reads as reads
from ._snapshot import WorkspaceSnapshot
from ._workspace import EngineError, Run, Workspace, engine_error_key
from .migrations import MIGRATIONS, Migration, applied_migrations, migrate, pending_migrations

__all__ = ["MIGRATIONS", "EngineError", "Migration", "Run", "Workspace", "WorkspaceSnapshot", "applied_migrations",
           "engine_error_key", "migrate", "pending_migrations", "reads"]
