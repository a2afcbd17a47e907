"""Alembic environment: the URL comes from the caller (bankvoc db upgrade) or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bankvoc import schema
from bankvoc.core.db import build_engine
from bankvoc.core.settings import get_settings

# Every feature's tables, so that autogenerate sees the whole schema.
target_metadata = schema.metadata()
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = build_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
