"""The operational store: outbox, contacts, consent and channel state, through SQLAlchemy Core.

SQLite in WAL mode beside the workspace by default (``shop/ltv.duckdb`` → ``shop/ltv.ops.sqlite``), PostgreSQL
when ``LTV_OPS_DB=postgresql://…``. It stays writable while an import or an analysis holds the DuckDB workspace,
and several senders (processes, machines) share it. Contact data (LINE user IDs, e-mail addresses) lives here
and nowhere else. Schema changes are named migrations recorded in ``ops_migrations``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._threads import Ahead
from ..exceptions import MigrationError, OpsStoreError

__all__ = ["OPS_MIGRATIONS", "OpsStore", "default_ops_url", "utcnow"]

metadata = sa.MetaData()

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(36), nullable=False, unique=True),
    sa.Column("scenario", sa.String(100), nullable=False),
    sa.Column("customer_key", sa.String(200), nullable=False),
    sa.Column("occurrence", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("holdout", sa.Boolean(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("context", sa.Text(), nullable=False),
    sa.Column("run_id", sa.BigInteger()),
    sa.Column("as_of", sa.Date()),
    sa.Column("planned_at", sa.DateTime(), nullable=False),
    sa.Column("send_at", sa.DateTime(), nullable=False),
    sa.Column("expires_at", sa.DateTime()),
    sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_until", sa.DateTime()),
    sa.Column("claimed_by", sa.String(80)),
    sa.Column("sent_at", sa.DateTime()),
    sa.Column("provider_id", sa.String(200)),
    sa.Column("last_error", sa.String(500)),
)
# the sender's claim: per state, highest priority first, then the oldest due time (see send._claim)
ix_outbox_claim = sa.Index("ix_outbox_claim", outbox.c.state, outbox.c.priority.desc(), outbox.c.next_attempt_at,
                           outbox.c.id)
sa.Index("ix_outbox_customer", outbox.c.customer_key, outbox.c.send_at)

attempts = sa.Table(
    "outbox_attempts", metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("outbox_id", sa.BigInteger(), nullable=False, index=True),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("claimed_by", sa.String(80), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer()),
    sa.Column("answer", sa.String(500)),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("customer_key", sa.String(200), primary_key=True),
    sa.Column("line_user_id", sa.String(100)),
    sa.Column("email", sa.String(320)),
    sa.Column("source", sa.String(100)),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

consent = sa.Table(
    "consent", metadata,
    sa.Column("customer_key", sa.String(200), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),  # a channel name, or "all"
    sa.Column("opted_out", sa.Boolean(), nullable=False),
    sa.Column("source", sa.String(100)),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

consent_ledger = sa.Table(
    "consent_ledger", metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("customer_key", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # opt_in | opt_out
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
)

reachability = sa.Table(
    "reachability", metadata,
    sa.Column("customer_key", sa.String(200), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("reachable", sa.Boolean(), nullable=False),
    sa.Column("reason", sa.String(200)),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

channel_status = sa.Table(
    "channel_status", metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("paused_until", sa.DateTime()),
    sa.Column("reason", sa.String(300)),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

# -- channels: LINE users and links, linking codes, webhook events, inbound messages, the store's own secret --
line_users = sa.Table(
    "line_users", metadata,
    sa.Column("line_user_id", sa.String(100), primary_key=True),
    sa.Column("customer_key", sa.String(200), index=True),
    sa.Column("following", sa.Boolean(), nullable=False),
    sa.Column("linked_at", sa.DateTime()),
    sa.Column("bad_codes", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("bad_codes_since", sa.DateTime()),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

link_codes = sa.Table(
    "link_codes", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("customer_key", sa.String(200), nullable=False),
    sa.Column("order_ref", sa.String(200)),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("expires_at", sa.DateTime(), nullable=False),
    sa.Column("used_at", sa.DateTime()),
)
sa.Index("ix_link_codes_order", link_codes.c.customer_key, link_codes.c.order_ref)

webhook_events = sa.Table(
    "webhook_events", metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # received | done | failed
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.Column("processed_at", sa.DateTime()),
    sa.Column("outcome", sa.String(200)),
)
sa.Index("ix_webhook_events_state", webhook_events.c.state, webhook_events.c.received_at)

inbound = sa.Table(
    "inbound_messages", metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(16), nullable=False, unique=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # message | reorder
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("line_user_id", sa.String(100)),
    sa.Column("customer_key", sa.String(200)),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("sku", sa.String(200)),
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.Column("replied_at", sa.DateTime()),
    sa.Column("reply_text", sa.Text()),
)

ops_meta = sa.Table(
    "ops_meta", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

_migrations_table = sa.Table(
    "ops_migrations", sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", sa.DateTime(), nullable=False),
)


@dataclass(frozen=True)
class OpsMigration:
    name: str
    apply: Callable[[Connection], None]


def _m001_crm(conn: Connection) -> None:
    metadata.create_all(conn, tables=[outbox, attempts, contacts, consent, consent_ledger, reachability,
                                      channel_status])


def _m002_channels(conn: Connection) -> None:
    metadata.create_all(conn, tables=[line_users, link_codes, webhook_events, inbound, ops_meta])


def _m003_claim_index(conn: Connection) -> None:
    # (state, next_attempt_at) made every claim sort all due rows; the claim index serves its order directly
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_outbox_due")
    ix_outbox_claim.create(conn, checkfirst=True)


OPS_MIGRATIONS: tuple[OpsMigration, ...] = (
    OpsMigration("m001_crm_outbox_contacts_consent", _m001_crm),
    OpsMigration("m002_channels_links_webhooks_inbound", _m002_channels),
    OpsMigration("m003_outbox_claim_index", _m003_claim_index),
)


def _sqlite_converter(type_: sa.types.TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How SQLAlchemy's SQLite dialect stores a value of this type (so raw inserts read back the same)."""
    if isinstance(type_, sa.DateTime):
        return functools.lru_cache(maxsize=4096)(lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f"))
    if isinstance(type_, sa.Date):
        return functools.lru_cache(maxsize=4096)(lambda v: v.isoformat())
    if isinstance(type_, sa.Boolean):
        return lambda v: 1 if v else 0
    return None


def _sqlite_literal(value: Any) -> str:
    """A value already in its stored form (:func:`_sqlite_converter`) as an SQLite literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not storable as an SQLite literal: {value!r}")
        return repr(float(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for a {type(value).__name__}")


def utcnow() -> dt.datetime:
    """Now in UTC without an offset: every time in the ops store is naive UTC."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def default_ops_url(workspace: str | os.PathLike[str] | None) -> str:
    """``sqlite:///<workspace dir>/<stem>.ops.sqlite`` (``ltv.duckdb`` → ``ltv.ops.sqlite``)."""
    path = Path(workspace) if workspace is not None else Path("ltv.duckdb")
    return "sqlite:///" + str(path.with_name(path.stem + ".ops.sqlite"))


def _engine_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class OpsStore:
    """The operational database.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///path`` or ``postgresql://user:password@host/db``.

    Examples
    --------
    >>> store = OpsStore("sqlite://")
    >>> store.counts()
    {}
    """

    def contact_flags(self, conn: Any) -> list[tuple[str, bool, bool]]:
        """``(customer_key, has_line, has_email)`` for every contact, read in one pass on the driver's cursor."""
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.execute("SELECT customer_key, line_user_id IS NOT NULL, email IS NOT NULL FROM contacts")
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite"):
                memory = url in ("sqlite://", "sqlite:///:memory:")
                kwargs: dict[str, Any] = {"connect_args": {"timeout": 60, "check_same_thread": False}}
                if memory:
                    kwargs["poolclass"] = sa.pool.StaticPool
                self.engine: Engine = sa.create_engine(url, **kwargs)
                self._sqlite_setup(self.engine, wal=not memory)
            else:
                self.engine = sa.create_engine(_engine_url(url), pool_pre_ping=True, pool_size=8)
            self.migrate()
        except sa.exc.SQLAlchemyError as exc:
            raise OpsStoreError(key="err.ops_store_open", url=self.safe_url,
                                detail=str(exc).splitlines()[0]) from exc

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        """The URL with any password masked (for messages)."""
        return sa.engine.make_url(_engine_url(self.url)).render_as_string(hide_password=True)

    @staticmethod
    def _sqlite_setup(engine: Engine, *, wal: bool) -> None:
        # pysqlite's own transaction handling begins lazily; take the write lock at BEGIN instead, so that two
        # writers queue on the busy timeout rather than fail when upgrading a read lock.
        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_con: Any, _record: Any) -> None:
            dbapi_con.isolation_level = None
            cur = dbapi_con.cursor()
            if wal:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> OpsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpsStore({self.safe_url!r})"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed at the end, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn

    # -- migrations -------------------------------------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("ops_migrations"):
                return []
            return [r[0] for r in conn.execute(sa.select(_migrations_table.c.name)
                                               .order_by(_migrations_table.c.applied_at,
                                                         _migrations_table.c.name))]

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in one transaction; return the names applied."""
        known = {m.name for m in OPS_MIGRATIONS}
        done = self.applied_migrations()
        unknown = [n for n in done if n not in known]
        if unknown:
            raise MigrationError(key="err.ops_store_newer", url=self.safe_url, migration=repr(unknown[0]))
        applied = []
        for migration in OPS_MIGRATIONS:
            if migration.name in done:
                continue
            try:
                with self.engine.begin() as conn:
                    if self.dialect == "postgresql":  # two processes opening a fresh database at once
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727001)")
                    _migrations_table.create(conn, checkfirst=True)
                    seen = conn.execute(sa.select(_migrations_table.c.name)
                                        .where(_migrations_table.c.name == migration.name)).first()
                    if seen:
                        continue
                    migration.apply(conn)
                    conn.execute(_migrations_table.insert().values(name=migration.name, applied_at=utcnow()))
            except sa.exc.SQLAlchemyError as exc:
                raise MigrationError(key="err.ops_store_migration", name=migration.name,
                                     detail=str(exc).splitlines()[0]) from exc
            applied.append(migration.name)
        return applied

    def secret(self, name: str = "signing") -> bytes:
        """A random secret kept in the ops store (created on first use): signs unsubscribe links, so that
        ``ltv serve`` needs nothing from the workspace."""
        import secrets

        cache: dict[str, bytes] = self.__dict__.setdefault("_secrets", {})
        if name in cache:
            return cache[name]
        query = sa.select(ops_meta.c.value).where(ops_meta.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            with self.begin() as conn:
                self.insert_ignore(conn, ops_meta, [{"name": name, "value": secrets.token_hex(32)}], ["name"])
                row = conn.execute(query).first()
        cache[name] = bytes.fromhex(row[0])
        return cache[name]

    # -- small reads --------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Outbox rows per state."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state)).all()
        return {r[0]: int(r[1]) for r in rows}

    def insert_ignore(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]],
                      index_elements: list[str]) -> None:
        """Bulk insert, skipping rows whose ``index_elements`` already exist."""
        if not rows:
            return
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).on_conflict_do_nothing(index_elements=index_elements)
        for i in range(0, len(rows), 20_000):
            conn.execute(stmt, rows[i:i + 20_000])

    def sql_value(self, table: sa.Table, column: str, value: Any) -> Any:
        """A value as the driver takes it for :meth:`bulk_insert_ignore` with ``converted=True``."""
        if self.dialect != "sqlite" or value is None:
            return value
        f = _sqlite_converter(table.c[column].type)
        return f(value) if f is not None else value

    def bulk_insert_ignore(self, table: sa.Table, columns: tuple[str, ...],
                           rows: list[tuple[Any, ...]] | Iterator[list[tuple[Any, ...]]], *,
                           conflict: str, converted: bool = False, constants: dict[str, Any] | None = None) -> None:
        """Insert many rows in one transaction through the driver's ``executemany`` (no per-row SQLAlchemy
        processing), skipping rows whose ``conflict`` column already exists. ``rows``: a list, or an iterator of
        batches that a helper thread makes while the previous batch is written (the driver leaves the
        interpreter while the database works). ``constants``: columns with the same value in every row
        (converted as the rows are), given once: on SQLite they are literals of the statement, not bound per
        row."""
        if isinstance(rows, list):
            if not rows:
                return
            batches: Iterator[list[tuple[Any, ...]]] = iter([rows[i:i + 50_000] for i in range(0, len(rows), 50_000)])
        else:
            batches = Ahead(rows, name="ltvkit-outbox-batches")
        source = batches  # closed at the end (it may be a helper thread's)
        constants = dict(constants or {})
        if constants and self.dialect != "sqlite":  # bound with each row
            extra = tuple(constants.values())
            batches = ([(*r, *extra) for r in b] for b in batches)
            columns, constants = (*columns, *constants), {}
        cols = ", ".join((*columns, *constants))
        conv: list[Any] = []
        if self.dialect == "sqlite":
            types = [table.c[c].type for c in columns]
            conv = [_sqlite_converter(t) for t in types]
            values = ", ".join(["?"] * len(columns) + [_sqlite_literal(v) for v in constants.values()])
            sql = f"INSERT INTO {table.name} ({cols}) VALUES ({values}) ON CONFLICT ({conflict}) DO NOTHING"
        else:
            sql = f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join(['%s'] * len(columns))}) " \
                  f"ON CONFLICT ({conflict}) DO NOTHING"
        with self.engine.begin() as conn:
            raw = conn.connection.driver_connection
            cur = raw.cursor()
            try:
                for batch in batches:
                    if not converted and any(f is not None for f in conv):
                        batch = [tuple(v if f is None or v is None else f(v) for v, f in zip(r, conv, strict=False))
                                 for r in batch]
                    if batch:
                        cur.executemany(sql, batch)
            finally:
                cur.close()
                close = getattr(source, "close", None)
                if close is not None:
                    close()

    def upsert(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], index_elements: list[str],
               update: list[str]) -> None:
        """Bulk insert or update ``update`` columns of existing rows."""
        if not rows:
            return
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=index_elements,
                                          set_={c: getattr(stmt.excluded, c) for c in update})
        for i in range(0, len(rows), 20_000):
            conn.execute(stmt, rows[i:i + 20_000])
