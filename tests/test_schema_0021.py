"""Migration 0021 (the customer's page) down and up again, on every database, with a code, a
session and a counted hit in its tables."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, select

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.timeutil import utcnow
from bankvoc.portal import limits
from bankvoc.portal import service as portal
from bankvoc.portal.models import PortalHit

TABLES = {"portal_challenge", "portal_session", "portal_hit"}


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class TestMigration0021:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            with unit_of_work(engine) as session:
                portal.request_code(session, reference="TS20990101000001",
                                    phone="13912345678", via="sms", client_ip="10.0.0.1",
                                    language="zh")
            assert set(inspect(engine).get_table_names()) >= TABLES
            _migrate(engine, "0020", down=True)
            assert not TABLES & set(inspect(engine).get_table_names())
            _migrate(engine, "head")
            with unit_of_work(engine) as session:
                assert session.scalars(select(PortalHit)).all() == []
                limits.record(session, action=limits.FILING, keys=["k"],
                              now=utcnow())
                assert limits.count(session, action=limits.FILING, key="k",
                                    now=utcnow()) == 1
        finally:
            engine.dispose()
