"""Migration 0026 (outlet inspections) down and up again, on every database; a visit recorded
after the upgrade keeps its answers and findings."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from bankvoc.branches import service
from bankvoc.branches.checklist import load_checklist
from bankvoc.branches.models import InspectionFinding
from bankvoc.branches.schemas import VisitCreate
from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from tests.test_schema_0023 import _migrate

TABLES = {"inspection", "inspection_answer", "inspection_photo", "inspection_finding"}


def _before() -> str:
    """The revision 0026 follows (0025, the contact centre's interactions)."""
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0026")
    assert before is not None
    assert isinstance(before.down_revision, str)
    return before.down_revision


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigration0026:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            _migrate(engine, _before(), down=True)
            assert not _tables(engine) & TABLES
            _migrate(engine, "head")
            assert _tables(engine) >= TABLES
            indexes = {i["name"] for i in inspect(engine).get_indexes("inspection")}
            assert "ix_inspection_org_id_visited_at" in indexes
            with unit_of_work(engine) as session:
                admin = org_service.get_user(session, username="admin")
                outlet = org_service.create_org(session, code="O1", name="网点",
                                                kind=OrgKind.outlet, parent=admin.org)
                codes = load_checklist().codes()
                data = VisitCreate.model_validate({
                    "org_id": outlet.id, "kind": "inspection",
                    "visited_at": "2026-09-10T02:00:00Z",
                    "answers": [{"item_code": c, "result": "fail" if i == 0 else "pass"}
                                for i, c in enumerate(codes)]})
                service.record_visit(session, actor=org_service.actor_for(admin), data=data)
            with unit_of_work(engine) as session:
                assert [f.item_code for f in session.scalars(select(InspectionFinding))] == [
                    codes[0]]
        finally:
            engine.dispose()
