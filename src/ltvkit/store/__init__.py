"""Workspace storage: named, versioned schema migrations recorded in the DuckDB file."""

from .migrations import MIGRATIONS, Migration, applied_migrations, migrate, pending_migrations

__all__ = ["MIGRATIONS", "Migration", "applied_migrations", "migrate", "pending_migrations"]
