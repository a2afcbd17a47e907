"""The process's view of the versions of configuration in force, and what loaders make of them
(SQLite and PostgreSQL, each test in a rolled-back transaction)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from bankvoc.core import configstore
from bankvoc.core.configstore import ConfigVersion, content_hash


@pytest.fixture(autouse=True)
def _fresh_view() -> Iterator[None]:
    configstore.reset()
    yield
    configstore.reset()


def store(session: Session, kind: str, version: int, text: str, *, active: bool) -> None:
    session.add(ConfigVersion(kind=kind, version=version, content=text,
                              content_sha256=content_hash(text), note="", active=active))
    session.flush()


class TestRefresh:
    def test_reads_the_active_versions(self, session: Session) -> None:
        store(session, "taxonomy", 1, "a: 1\n", active=False)
        store(session, "taxonomy", 2, "a: 2\n", active=True)
        snapshot = configstore.refresh(session, max_age=0)
        active = snapshot.get("taxonomy")
        assert active is not None
        assert (active.version, active.text, active.source) == (2, "a: 2\n", "taxonomy v2")
        assert snapshot.refs() == {"taxonomy": 2}
        assert configstore.current() is snapshot

    def test_reads_the_database_at_most_once_per_refresh_interval(self,
                                                                  session: Session) -> None:
        configstore.refresh(session, max_age=0)
        store(session, "workflow", 1, "b: 1\n", active=True)
        assert configstore.refresh(session).get("workflow") is None
        configstore.invalidate()
        assert configstore.refresh(session).refs() == {"workflow": 1}

    def test_keeps_the_text_of_an_unchanged_version(self, session: Session) -> None:
        store(session, "workflow", 1, "b: 1\n", active=True)
        first = configstore.refresh(session, max_age=0).get("workflow")
        assert configstore.refresh(session, max_age=0).get("workflow") is first


class TestParsed:
    def test_is_none_while_the_file_is_in_force(self) -> None:
        assert configstore.parsed("taxonomy", lambda text, source: text) is None

    def test_parses_each_content_once(self, session: Session) -> None:
        store(session, "taxonomy", 1, "a: 1\n", active=True)
        configstore.refresh(session, max_age=0)
        calls: list[str] = []

        def parse(text: str, source: str) -> list[str]:
            calls.append(source)
            return [text]

        first = configstore.parsed("taxonomy", parse)
        assert configstore.parsed("taxonomy", parse) is first
        assert calls == ["taxonomy v1"]

    def test_reads_a_snapshot_given_instead_of_the_view(self) -> None:
        given = configstore.Snapshot({"grading": configstore.Active(
            "grading", 3, content_hash("g: 3\n"), "g: 3\n")})
        assert configstore.parsed("grading", lambda text, source: source,
                                  snapshot=given) == "grading v3"
        assert configstore.parsed("grading", lambda text, source: source) is None
