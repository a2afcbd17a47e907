"""Versioned configuration: saving, activating and rolling back change what the application does
(SQLite and PostgreSQL, each test in a rolled-back transaction)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case
from bankvoc.cases.workflow.config import load_config
from bankvoc.config import service
from bankvoc.config.errors import ConfigConflict, NothingChanged, UnknownKind, VersionNotFound
from bankvoc.config.kinds import KINDS, ConfigInvalid
from bankvoc.core.configstore import ConfigActivation, ConfigVersion
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import build_context, register_case
from bankvoc.nlp.pipeline import TextAnalyzer
from bankvoc.notify.templates import render
from bankvoc.orgs.service import Actor
from bankvoc.sla.service import decision_due
from tests.config.conftest import in_force
from tests.conftest import World

TZ = ZoneInfo("Asia/Shanghai")
STAR_CARD = "我的星球卡被吞了，请尽快处理"
RECEIVED = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Shanghai


def edited(session: Session, admin: Actor, kind: str, old: str, new: str) -> str:
    text = service.get_version(session, actor=admin, kind=kind, version=0).content
    assert text.count(old) == 1, old
    return text.replace(old, new)


def star_card_taxonomy(session: Session, admin: Actor) -> str:
    """The shipped taxonomy with "星球卡" a credit-card word."""
    return edited(session, admin, "taxonomy", "keywords: [信用卡, 分期",
                  "keywords: [星球卡, 信用卡, 分期")


def ten_day_policy(session: Session, admin: Actor) -> str:
    return edited(session, admin, "sla_policy",
                  "        days: 15\n        starts: received",
                  "        days: 10\n        starts: received")


def save(session: Session, admin: Actor, kind: str, text: str, note: str = "test") -> int:
    return service.save_version(session, actor=admin, kind=kind, content=text,
                                note=note).version


def product_of(text: str) -> str:
    return TextAnalyzer().analyze(text).product


def versions(session: Session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(ConfigVersion)
                          .where(ConfigVersion.kind == kind)) or 0


class TestSaveVersion:
    def test_saves_the_next_version_not_yet_in_force(self, session: Session,
                                                     admin: Actor) -> None:
        first = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        row = service.save_version(session, actor=admin, kind="taxonomy",
                                   content=star_card_taxonomy(session, admin) + "# again\n",
                                   note="  a  second   edit ")
        assert (first, row.version) == (1, 2)
        assert row.note == "a second edit"
        assert row.created_by_name == "hq_admin"
        assert not row.active
        assert service.active_version(session, kind="taxonomy") == 0
        in_force(session)
        assert product_of(STAR_CARD) != "credit_card"

    def test_a_browser_s_line_ends_are_stored_as_unix_ones(self, session: Session,
                                                           admin: Actor) -> None:
        text = star_card_taxonomy(session, admin)
        row = service.save_version(session, actor=admin, kind="taxonomy",
                                   content=text.replace("\n", "\r\n"), note="crlf")
        assert row.content == text

    def test_a_bad_taxonomy_is_refused_with_line_and_reason_and_saves_nothing(
        self, session: Session, admin: Actor
    ) -> None:
        text = edited(session, admin, "taxonomy", "jrt_business: credit_card",
                      "jrt_business: plastic_money")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "taxonomy", text)
        problem = raised.value.problems[0]
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "plastic_money" in t)
        assert problem.line == line
        assert "'plastic_money' is not a JR/T 0169-2018 business type" in problem.reason
        assert raised.value.status == 422
        assert versions(session, "taxonomy") == 0

    def test_a_template_with_a_placeholder_the_application_does_not_give_is_refused(
        self, session: Session, admin: Actor
    ) -> None:
        text = edited(session, admin, "notify_templates", "您反映的问题已受理（{{ reference }}）",
                      "您反映的问题已受理（{{ reference }}，{{ case_officer }}）")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "notify_templates", text)
        problem = raised.value.problems[0]
        assert problem.path == "templates.accepted.zh.subject"
        assert "{{ case_officer }}" in problem.reason
        assert problem.line == next(i for i, t in enumerate(text.splitlines(), 1)
                                    if "case_officer" in t)
        assert versions(session, "notify_templates") == 0

    def test_a_template_with_an_unknown_filter_is_refused(self, session: Session,
                                                          admin: Actor) -> None:
        text = edited(session, admin, "notify_templates", "您反映的问题已受理（{{ reference }}）",
                      "您反映的问题已受理（{{ reference | shout }}）")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "notify_templates", text)
        assert "No filter named 'shout'" in raised.value.problems[0].reason

    def test_a_template_the_application_sends_may_not_be_removed(self, session: Session,
                                                                 admin: Actor) -> None:
        text = edited(session, admin, "notify_templates", "  accepted:\n", "  accepted_x:\n")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "notify_templates", text)
        assert any("template 'accepted' is missing" in p.reason
                   for p in raised.value.problems)

    def test_a_calendar_with_an_impossible_date_is_refused(self, session: Session,
                                                           admin: Actor) -> None:
        text = "version: x\nyears:\n  2099:\n    holidays: [2099-02-30]\n"
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "calendar", text)
        assert raised.value.problems[0].line == 4
        assert "date" in raised.value.problems[0].reason

    def test_an_sla_policy_pausing_for_an_unknown_reason_is_refused(
        self, session: Session, admin: Actor
    ) -> None:
        text = edited(session, admin, "sla_policy", "        restart_on_new_facts: true\n"
                      "      - id: nfra_measures",
                      "        restart_on_new_facts: true\n        paused_by: [holiday_mood]\n"
                      "      - id: nfra_measures")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "sla_policy", text)
        assert "'holiday_mood' is not one of pause_reasons" in raised.value.problems[0].reason

    def test_authority_limits_name_only_roles(self, session: Session, admin: Actor) -> None:
        text = edited(session, admin, "workflow", "  handler: 5000\n",
                      "  handler: 5000\n  intern: 100\n")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "workflow", text)
        problem = raised.value.problems[0]
        assert problem.path == "authority_limits.intern"
        assert problem.line == text.splitlines().index("  intern: 100") + 1

    def test_routing_names_only_known_severities(self, session: Session, admin: Actor) -> None:
        text = edited(session, admin, "workflow", "{severity: [major]}", "{severity: [huge]}")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "workflow", text)
        assert "'huge' is not a severity" in raised.value.problems[0].reason

    def test_qa_rules_are_a_kind_checked_by_the_contact_parser(self, session: Session,
                                                               admin: Actor) -> None:
        assert "qa_rules" in KINDS
        text = service.get_version(session, actor=admin, kind="qa_rules", version=0).content
        assert text.startswith("#") or "rules:" in text
        KINDS["qa_rules"].validate(text, source="qa_rules")

    def test_a_bad_qa_rules_edit_is_refused_with_line_and_reason(self, session: Session,
                                                                 admin: Actor) -> None:
        text = edited(session, admin, "qa_rules", "category: forbidden_phrase",
                      "category: rudeness")
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "qa_rules", text)
        problem = raised.value.problems[0]
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "rudeness" in t)
        assert problem.line == line
        assert "category" in problem.reason or "rudeness" in problem.reason
        assert raised.value.status == 422
        assert versions(session, "qa_rules") == 0

    def test_broken_yaml_is_refused_with_its_line(self, session: Session, admin: Actor) -> None:
        with pytest.raises(ConfigInvalid) as raised:
            save(session, admin, "alert_rules", "version: '1'\nspikes: [unclosed\n")
        assert "not valid YAML" in raised.value.problems[0].reason

    def test_an_empty_text_is_refused(self, session: Session, admin: Actor) -> None:
        with pytest.raises(ConfigInvalid):
            save(session, admin, "taxonomy", " \r\n")

    def test_a_note_is_required(self, session: Session, admin: Actor) -> None:
        with pytest.raises(Invalid) as raised:
            save(session, admin, "taxonomy", star_card_taxonomy(session, admin), note=" ")
        assert raised.value.field == "note"

    def test_the_same_text_again_is_nothing_to_save(self, session: Session,
                                                    admin: Actor) -> None:
        text = service.get_version(session, actor=admin, kind="workflow", version=0).content
        with pytest.raises(NothingChanged):
            save(session, admin, "workflow", text)

    def test_an_unknown_kind_is_not_found(self, session: Session, admin: Actor) -> None:
        with pytest.raises(UnknownKind):
            save(session, admin, "horoscope", "a: 1\n")

    def test_an_analyst_may_read_but_not_save(self, session: Session, world: World) -> None:
        analyst = world.actor("hq_analyst")
        assert service.overview(session, actor=analyst)
        with pytest.raises(Forbidden):
            save(session, analyst, "taxonomy", star_card_taxonomy(session, analyst))

    def test_a_handler_may_not_even_read(self, session: Session, world: World) -> None:
        with pytest.raises(Forbidden):
            service.overview(session, actor=world.actor("bj_handler"))


class TestActivate:
    def test_an_activated_taxonomy_changes_what_classification_returns(
        self, session: Session, admin: Actor
    ) -> None:
        assert product_of(STAR_CARD) != "credit_card"
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        service.activate(session, actor=admin, kind="taxonomy", version=version, note="星球卡")
        in_force(session)
        assert product_of(STAR_CARD) == "credit_card"

    def test_intake_classifies_with_the_version_in_force(self, session: Session,
                                                         world: World, admin: Actor) -> None:
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        service.activate(session, actor=admin, kind="taxonomy", version=version)
        in_force(session)
        draft = register_case(session, actor=world.actor("bj_handler"),
                              data=CaseCreate(channel="hotline", text=STAR_CARD))
        case = session.get(Case, draft.case_id)
        assert case is not None
        assert case.product == "credit_card"

    def test_an_intake_run_keeps_the_versions_in_force_where_it_began(
        self, session: Session, world: World, admin: Actor
    ) -> None:
        ctx = build_context(session, actor=world.actor("bj_handler"), source_system="test")
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        service.activate(session, actor=admin, kind="taxonomy", version=version)
        in_force(session)
        assert ctx.classifier.predict(STAR_CARD)["product"].code != "credit_card"
        later = build_context(session, actor=world.actor("bj_handler"), source_system="test")
        assert later.config.refs() == {"taxonomy": version}
        assert later.pure().classifier.predict(STAR_CARD)["product"].code == "credit_card"

    def test_an_activated_sla_policy_changes_a_computed_deadline(
        self, session: Session, admin: Actor
    ) -> None:
        before = decision_due("complaint", RECEIVED, TZ)
        version = save(session, admin, "sla_policy", ten_day_policy(session, admin))
        service.activate(session, actor=admin, kind="sla_policy", version=version)
        in_force(session)
        after = decision_due("complaint", RECEIVED, TZ)
        assert before is not None
        assert after is not None
        assert after < before
        assert after.astimezone(TZ).date() == dt.date(2026, 3, 13)  # 24:00 on 12 March

    def test_an_activated_calendar_moves_a_deadline_off_a_holiday(
        self, session: Session, admin: Actor
    ) -> None:
        received = dt.datetime(2099, 3, 1, 2, tzinfo=dt.UTC)  # 15 days on: Monday 16 March
        before = decision_due("complaint", received, TZ)
        assert before is not None
        assert before.astimezone(TZ).date() == dt.date(2099, 3, 17)
        text = "version: b1\nyears:\n  2099:\n    holidays: [2099-03-16..2099-03-17]\n"
        version = save(session, admin, "calendar", text)
        service.activate(session, actor=admin, kind="calendar", version=version)
        in_force(session)
        after = decision_due("complaint", received, TZ)
        assert after is not None
        assert after.astimezone(TZ).date() == dt.date(2099, 3, 19)

    def test_an_activated_template_changes_a_rendered_notification(
        self, session: Session, admin: Actor
    ) -> None:
        context = {"reference": "TS1", "received_at": dt.date(2026, 3, 2),
                   "due_date": dt.date(2026, 3, 17)}
        assert render("accepted", language="zh", context=context).subject.startswith("您反映")
        text = edited(session, admin, "notify_templates", "您反映的问题已受理（{{ reference }}）",
                      "您的投诉已登记（{{ reference }}）")
        version = save(session, admin, "notify_templates", text)
        service.activate(session, actor=admin, kind="notify_templates", version=version)
        in_force(session)
        assert render("accepted", language="zh", context=context).subject == "您的投诉已登记（TS1）"

    def test_an_activated_workflow_changes_authority_limits(self, session: Session,
                                                            admin: Actor) -> None:
        text = edited(session, admin, "workflow", "  handler: 5000\n", "  handler: 8000\n")
        version = save(session, admin, "workflow", text)
        service.activate(session, actor=admin, kind="workflow", version=version)
        in_force(session)
        assert load_config().limit_of(frozenset({"handler"})) == Decimal(8000)

    def test_version_0_puts_the_file_back_in_force(self, session: Session,
                                                  admin: Actor) -> None:
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        service.activate(session, actor=admin, kind="taxonomy", version=version)
        record = service.activate(session, actor=admin, kind="taxonomy", version=0,
                                  note="back to the shipped file")
        assert (record.action, record.previous, record.version) == ("file", version, 0)
        in_force(session)
        assert product_of(STAR_CARD) != "credit_card"

    def test_one_version_at_a_time_is_in_force(self, session: Session, admin: Actor) -> None:
        first = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        second = save(session, admin, "taxonomy", star_card_taxonomy(session, admin) + "#\n")
        service.activate(session, actor=admin, kind="taxonomy", version=first)
        service.activate(session, actor=admin, kind="taxonomy", version=second)
        assert session.scalars(select(ConfigVersion.version).where(
            ConfigVersion.kind == "taxonomy", ConfigVersion.active)).all() == [second]

    def test_the_version_in_force_again_is_a_conflict(self, session: Session,
                                                      admin: Actor) -> None:
        with pytest.raises(ConfigConflict):
            service.activate(session, actor=admin, kind="taxonomy", version=0)

    def test_an_unknown_version_is_not_found(self, session: Session, admin: Actor) -> None:
        with pytest.raises(VersionNotFound):
            service.activate(session, actor=admin, kind="taxonomy", version=999)

    def test_an_analyst_may_not_activate(self, session: Session, world: World,
                                         admin: Actor) -> None:
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        with pytest.raises(Forbidden):
            service.activate(session, actor=world.actor("hq_analyst"), kind="taxonomy",
                             version=version)

    def test_each_activation_is_recorded(self, session: Session, admin: Actor) -> None:
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        service.activate(session, actor=admin, kind="taxonomy", version=version, note="why")
        record = session.scalars(select(ConfigActivation)).one()
        assert (record.kind, record.version, record.previous, record.action, record.note,
                record.by_name) == ("taxonomy", version, 0, "activate", "why", "hq_admin")


class TestRollback:
    def test_restores_the_earlier_behaviour(self, session: Session, admin: Actor) -> None:
        policy = save(session, admin, "sla_policy", ten_day_policy(session, admin))
        before = decision_due("complaint", RECEIVED, TZ)
        service.activate(session, actor=admin, kind="sla_policy", version=policy)
        in_force(session)
        assert decision_due("complaint", RECEIVED, TZ) != before
        record = service.rollback(session, actor=admin, kind="sla_policy", note="too short")
        assert (record.action, record.version, record.previous) == ("rollback", 0, policy)
        in_force(session)
        assert decision_due("complaint", RECEIVED, TZ) == before

    def test_goes_back_to_the_version_before_the_last_change(self, session: Session,
                                                             admin: Actor) -> None:
        first = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        second = save(session, admin, "taxonomy", star_card_taxonomy(session, admin) + "#\n")
        service.activate(session, actor=admin, kind="taxonomy", version=first)
        service.activate(session, actor=admin, kind="taxonomy", version=second)
        service.rollback(session, actor=admin, kind="taxonomy")
        assert service.active_version(session, kind="taxonomy") == first

    def test_nothing_to_roll_back(self, session: Session, admin: Actor) -> None:
        with pytest.raises(Invalid):
            service.rollback(session, actor=admin, kind="grading")


class TestDiff:
    def test_shows_the_changed_lines(self, session: Session, admin: Actor) -> None:
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        lines = service.diff(session, actor=admin, kind="taxonomy", old=0, new=version)
        assert lines[:2] == ["--- taxonomy v0", f"+++ taxonomy v{version}"]
        changed = [line for line in lines[2:] if line[:1] in "+-"]
        assert len(changed) == 2
        assert changed[0].startswith("-    keywords: [信用卡, 分期")
        assert changed[1].startswith("+    keywords: [星球卡, 信用卡, 分期")

    def test_a_version_against_itself_has_no_diff(self, session: Session,
                                                  admin: Actor) -> None:
        assert service.diff(session, actor=admin, kind="workflow", old=0, new=0) == []


class TestGetVersion:
    def test_version_0_is_the_shipped_file(self, session: Session, admin: Actor) -> None:
        found = service.get_version(session, actor=admin, kind="workflow", version=0)
        assert found.source == "workflow.yaml"
        assert "authority_limits:" in found.content
        assert found.active

    def test_the_calendar_ships_an_empty_one(self, session: Session, admin: Actor) -> None:
        found = service.get_version(session, actor=admin, kind="calendar", version=0)
        KINDS["calendar"].validate(found.content, source="calendar")
        assert "years: {}" in found.content


class TestOverview:
    def test_every_kind_with_the_version_in_force(self, session: Session,
                                                  admin: Actor) -> None:
        version = save(session, admin, "taxonomy", star_card_taxonomy(session, admin))
        service.activate(session, actor=admin, kind="taxonomy", version=version)
        rows = {r.kind.code: r for r in service.overview(session, actor=admin)}
        assert set(rows) == set(KINDS)
        assert (rows["taxonomy"].active, rows["taxonomy"].latest,
                rows["taxonomy"].changed_by) == (version, version, "hq_admin")
        assert (rows["sla_policy"].active, rows["sla_policy"].versions) == (0, 0)


class TestHistory:
    def test_newest_first_with_who_and_why(self, session: Session, admin: Actor) -> None:
        save(session, admin, "taxonomy", star_card_taxonomy(session, admin), note="one")
        save(session, admin, "taxonomy", star_card_taxonomy(session, admin) + "#\n",
             note="two")
        assert [(v.version, v.note) for v in service.history(
            session, actor=admin, kind="taxonomy")] == [(2, "two"), (1, "one")]
