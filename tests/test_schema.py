"""Migrations and models describe the same schema, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bankvoc import schema
from bankvoc.core import migrate
from bankvoc.core.db import build_engine


class TestMigrations:
    def test_upgrading_to_head_gives_exactly_the_models_schema(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            assert migrate.current_revision(engine) == migrate.head_revision()
            with engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection),
                                        schema.metadata())
            assert diff == []
        finally:
            engine.dispose()
