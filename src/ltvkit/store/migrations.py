"""Named schema migrations, applied in order and recorded in the ``schema_migrations`` table.

A migration is a name and a function of a DuckDB connection. ``migrate`` runs the pending ones, each in its own
transaction, so a failure leaves the file at the last good version. A file that records a migration this
version of ltvkit does not know was written by a newer ltvkit and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from ..exceptions import MigrationError
from .schema import CONTACTS, CUSTOMERS, ORDER_LINES, PRODUCTS, QUARANTINE, ddl

__all__ = ["MIGRATIONS", "Migration", "applied_migrations", "migrate", "pending_migrations"]


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _m001_core(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(ddl("order_lines", ORDER_LINES))
    con.execute(ddl("customers", CUSTOMERS))
    con.execute(ddl("products", PRODUCTS))
    con.execute(ddl("contacts", CONTACTS))
    con.execute(ddl("quarantine", QUARANTINE))
    con.execute(
        """
        CREATE TABLE import_log (
          import_id BIGINT PRIMARY KEY,
          file_name VARCHAR NOT NULL,
          content_hash VARCHAR NOT NULL,
          preset VARCHAR NOT NULL,
          source VARCHAR,
          encoding VARCHAR,
          started_at TIMESTAMP NOT NULL,
          finished_at TIMESTAMP,
          rows_read BIGINT,
          imported BIGINT,
          updated BIGINT,
          unchanged BIGINT,
          quarantined BIGINT,
          status VARCHAR NOT NULL
        )
        """
    )
    con.execute("CREATE SEQUENCE import_id_seq START 1")


def _m002_results(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE result_log (
          table_name VARCHAR PRIMARY KEY,
          kind VARCHAR,
          as_of DATE,
          params VARCHAR,
          created_at TIMESTAMP NOT NULL,
          row_count BIGINT
        )
        """
    )


def _m003_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Runs (issue 12): every stored result belongs to a run; ``result_<name>`` becomes a view of the latest.

    Result tables written before this migration become the rows of one run each, with the kind, as-of and
    parameters ``result_log`` recorded, and ``result_log`` becomes a view over the runs.
    """
    con.execute("CREATE SEQUENCE run_id_seq START 1")
    con.execute(
        """
        CREATE TABLE runs (
          run_id BIGINT PRIMARY KEY,
          kind VARCHAR NOT NULL,
          as_of DATE,
          params VARCHAR NOT NULL,
          details VARCHAR NOT NULL,
          created_at TIMESTAMP NOT NULL,
          code_version VARCHAR NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE run_results (
          run_id BIGINT NOT NULL,
          result VARCHAR NOT NULL,
          table_name VARCHAR NOT NULL,
          row_count BIGINT,
          PRIMARY KEY (run_id, result)
        )
        """
    )
    old = con.execute("SELECT table_name, kind, as_of, params, created_at, row_count FROM result_log "
                      "ORDER BY created_at, table_name").fetchall()
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    for name, kind, as_of, params, created_at, rows in old:
        if name not in tables:
            continue
        run_id = con.execute("SELECT nextval('run_id_seq')").fetchall()[0][0]
        physical = f"{name}__run_{run_id}"
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, '{}', ?, 'before-runs')",
                    [run_id, kind or name.removeprefix("result_"), as_of, params or "{}", created_at])
        con.execute(f'ALTER TABLE "{name}" RENAME TO "{physical}"')
        con.execute("INSERT INTO run_results VALUES (?, ?, ?, ?)", [run_id, name, physical, rows])
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM "{physical}"')
    con.execute("DROP TABLE result_log")
    con.execute(
        """
        CREATE VIEW result_log AS
        SELECT x.result AS table_name, r.kind, r.as_of, r.params, r.created_at, x.row_count, r.run_id
        FROM runs r JOIN run_results x USING (run_id)
        QUALIFY row_number() OVER (PARTITION BY x.result ORDER BY r.run_id DESC) = 1
        """
    )


def _m004_import_paths(con: duckdb.DuckDBPyConnection) -> None:
    """The full path of each import: the quarantine is kept per import (path + content hash), not per file name."""
    con.execute("ALTER TABLE import_log ADD COLUMN file_path VARCHAR")


MIGRATIONS: tuple[Migration, ...] = (
    Migration("m001_core_tables", _m001_core),
    Migration("m002_result_log", _m002_results),
    Migration("m003_runs", _m003_runs),
    Migration("m004_import_paths", _m004_import_paths),
)


def _ensure_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations recorded in the file, oldest first."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return []
    return [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name").fetchall()]


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Migrations not yet applied (read-only)."""
    done = set(applied_migrations(con))
    return [m for m in MIGRATIONS if m.name not in done]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations, each in one transaction; return the names applied."""
    known = {m.name for m in MIGRATIONS}
    unknown = [n for n in applied_migrations(con) if n not in known]
    if unknown:
        raise MigrationError(
            f"This workspace was written by a newer ltvkit (it has migration {unknown[0]!r}); upgrade ltvkit to open it."
        )
    applied = []
    for migration in pending_migrations(con):
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure_log(con)
            migration.apply(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, current_timestamp::TIMESTAMP)", [migration.name])
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"Migration {migration.name} failed: {exc}") from exc
        applied.append(migration.name)
    return applied
