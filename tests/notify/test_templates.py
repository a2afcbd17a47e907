"""Templates: every code in Chinese and English, masked names, and clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bankvoc.core.settings import reset_settings
from bankvoc.notify.errors import TemplateError, UnknownTemplate
from bankvoc.notify.templates import (
    TemplateFileError,
    current_templates,
    parse_templates,
    render,
)
from tests.notify.conftest import CONTEXT

CODES = ["accepted", "not_accepted", "transferred", "progress", "extended", "paused", "resumed",
         "decision", "appeal_route", "callback_request", "escalated", "deadline_warning",
         "hot_issue_alert", "problem_fixed", "monthly_report_ready", "portal_received",
         "portal_code"]

SAMPLE: dict[str, Any] = {
    **CONTEXT, "reason": "需第三方鉴定", "org_name": "北京分行", "progress": "已调取交易记录",
    "paused_at": date(2026, 12, 1), "decided_at": date(2026, 12, 10), "decision": "退还手续费",
    "level": 2, "severity": "重要", "due_at": datetime(2026, 12, 14, 8, 0, tzinfo=UTC),
    "hours_left": 6,
    "day": date(2026, 12, 1), "kind": "热点问题", "kind_code": "hot_issue", "observed": 31,
    "title": "信用卡 年费争议 激增", "fixed_at": date(2026, 12, 5),
    "problem_title": "年费减免规则告知不清", "formats": "HTML, PDF, XLSX",
    "link": "/api/v1/reports/monthly?month=2026-11&org=BJ",
    "location": "var/reports/monthly/2026-11", "org_code": "BJ", "period": "2026-11",
    "code": "048213", "minutes": 10,
}

MINIMAL = """
version: "1"
templates:
  hello:
    audience: customer
    zh: {subject: "你好", body: "{{ reference }}"}
    en: {subject: "Hello", body: "{{ reference }}"}
"""


class TestShippedTemplates:
    def test_has_every_code_the_workflow_needs(self) -> None:
        assert sorted(current_templates().codes) == sorted(CODES)

    @pytest.mark.parametrize("language", ["zh", "en"])
    @pytest.mark.parametrize("code", CODES)
    def test_every_template_renders_from_its_declared_context(self, code: str,
                                                              language: str) -> None:
        info = current_templates().info(code)
        context = {name: SAMPLE[name] for name in info.required}
        rendered = render(code, language=language, context=context)
        assert rendered.subject
        assert rendered.body
        assert "{{" not in rendered.body
        assert "\n" not in rendered.subject
        assert (rendered.template, rendered.language) == (code, language)

    def test_chinese(self) -> None:
        rendered = render("accepted", language="zh", context=CONTEXT)
        assert rendered.subject == "您反映的问题已受理（TS202611270001）"
        assert rendered.body == (
            "尊敬的张**客户：您于2026年11月27日反映的问题已受理，受理编号TS202611270001。"
            "我们将于2026年12月14日前告知您处理结果，查询进度请提供受理编号。【客服中心】")

    def test_english(self) -> None:
        rendered = render("accepted", language="en", context={**CONTEXT, "customer_name": "Li Lei"})
        assert rendered.subject == "We have registered your complaint (TS202611270001)"
        assert rendered.body == (
            "Dear L* L**, the matter you raised on 27 Nov 2026 has been registered under "
            "reference TS202611270001. We will tell you our decision by 14 Dec 2026. Please "
            "quote the reference in any enquiry. — Customer Service")

    def test_a_customer_without_a_name_is_greeted_politely(self) -> None:
        context = {k: v for k, v in CONTEXT.items() if k != "customer_name"}
        assert render("accepted", language="zh", context=context).body.startswith("尊敬的客户：")
        assert render("accepted", language="en", context=context).body.startswith(
            "Dear customer,")

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_the_appeal_route_names_the_regulators_hotlines_and_mediation(
        self, language: str
    ) -> None:
        body = render("appeal_route", language=language, context=CONTEXT).body
        assert "12378" in body
        assert "12363" in body
        assert ("调解" in body) if language == "zh" else ("mediate" in body)

    def test_optional_variables_may_be_left_out(self) -> None:
        context = {**CONTEXT, "org_name": "北京分行"}
        with_date = render("transferred", language="zh", context=context).body
        context.pop("due_date")
        without = render("transferred", language="zh", context=context).body
        assert "2026年12月14日" in with_date
        assert "2026年12月14日" not in without

    def test_staff_times_are_shown_in_the_banks_time_zone(self) -> None:
        body = render("deadline_warning", language="zh", context=SAMPLE).body
        assert "2026年12月14日 16:00" in body  # 08:00 UTC in Shanghai


class TestErrors:
    def test_an_unknown_template_names_the_known_ones(self) -> None:
        with pytest.raises(UnknownTemplate, match="unknown notification template 'welcome'; "
                                                  "known: accepted") as raised:
            render("welcome", language="zh", context={})
        assert raised.value.field == "template"

    def test_a_missing_variable_is_named(self) -> None:
        with pytest.raises(TemplateError) as raised:
            render("extended", language="en", context={"reference": "TS1"})
        assert raised.value.message == (
            "template 'extended' needs the context variables due_date, reason")
        assert raised.value.field == "context.due_date"

    def test_a_language_other_than_zh_or_en_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="no language 'fr'"):
            render("accepted", language="fr", context=CONTEXT)

    def test_a_value_that_is_not_a_date_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="not a date"):
            render("accepted", language="zh", context={**CONTEXT, "due_date": 42})

    def test_templates_run_in_a_sandbox(self) -> None:
        templates = parse_templates(MINIMAL.replace(
            'body: "{{ reference }}"}\n    en',
            'body: "{{ reference.__class__.__mro__ }}"}\n    en'), source="t.yaml")
        with pytest.raises(TemplateError):
            templates.render("hello", language="zh", context={"reference": "x"})


class TestBankFile:
    def test_a_banks_own_file_replaces_the_shipped_one(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "templates.yaml"
        path.write_text(MINIMAL, encoding="utf-8")
        monkeypatch.setenv("BANKVOC_NOTIFY_TEMPLATES_FILE", str(path))
        reset_settings()
        assert current_templates().codes == ["hello"]
        assert render("hello", language="en", context={"reference": "R1"}).body == "R1"

    def test_a_broken_template_is_refused_with_its_line(self) -> None:
        broken = MINIMAL.replace('en: {subject: "Hello"', 'en: {subject: "Hello {{"')
        with pytest.raises(TemplateFileError) as raised:
            parse_templates(broken, source="bank.yaml")
        assert raised.value.message.startswith("bank.yaml line 7: templates.hello.en.subject: "
                                               "not a valid template")

    def test_a_template_without_english_is_refused(self) -> None:
        with pytest.raises(TemplateFileError, match=r"templates\.hello\.en: is required"):
            parse_templates(MINIMAL.replace('    en: {subject: "Hello", body: "{{ reference }}"}\n',
                                            ""), source="bank.yaml")
