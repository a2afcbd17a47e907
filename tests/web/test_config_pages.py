"""The configuration screens, through the whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bankvoc.core import configstore
from bankvoc.core.configstore import ConfigVersion
from bankvoc.nlp.pipeline import TextAnalyzer
from tests.conftest import World, auth

STAR_CARD = "我的星球卡被吞了，请尽快处理"


@pytest.fixture(autouse=True)
def _fresh_view() -> Iterator[None]:
    configstore.reset()
    yield
    configstore.reset()


def shipped(client: TestClient, kind: str = "taxonomy") -> str:
    html = client.get(f"/admin/config/{kind}/edit").text
    found = re.search(r'<textarea id="f-content"[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None
    return markup.unescape(found.group(1))


def saved_versions(world: World) -> int:
    return world.session.scalar(select(func.count()).select_from(ConfigVersion)) or 0


@pytest.mark.usefixtures("demo")
class TestOverview:
    def test_lists_every_kind_with_the_version_in_force(self, client: TestClient) -> None:
        html = client.get("/admin/config").text
        assert "配置管理" in html
        for kind in ("taxonomy", "sla_policy", "calendar", "notify_templates", "workflow",
                     "grading", "alert_rules"):
            row = html.split(f'data-kind="{kind}"')[1].split("</tr>")[0]
            assert "配置文件（v0）" in row
        assert 'href="/admin/config/taxonomy"' in html

    def test_lists_the_contact_centre_targets(self, client: TestClient) -> None:
        row = client.get("/admin/config").text.split('data-kind="contact_targets"')[1]
        assert "呼叫中心指标目标" in row.split("</tr>")[0]
        assert "配置文件（v0）" in row.split("</tr>")[0]
        assert "service_level_seconds: 20" in shipped(client, "contact_targets")

    def test_in_english(self, client: TestClient) -> None:
        html = client.get("/admin/config?lang=en").text
        assert "Routing rules and authority limits" in html

    def test_an_auditor_reads_and_a_handler_is_refused(self, client: TestClient,
                                                       world: World) -> None:
        assert client.get("/admin/config", headers=auth(world, "hq_analyst")).status_code == 200
        refused = client.get("/admin/config", headers=auth(world, "bj_handler"))
        assert refused.status_code == 403

    def test_the_admin_home_links_here(self, client: TestClient) -> None:
        assert 'href="/admin/config"' in client.get("/admin").text


@pytest.mark.usefixtures("demo")
class TestEditAndSave:
    def test_saving_makes_a_version_not_yet_in_force(self, client: TestClient, demo: str,
                                                     world: World) -> None:
        text = shipped(client).replace("keywords: [信用卡, 分期", "keywords: [星球卡, 信用卡, 分期")
        response = client.post("/admin/config/taxonomy/versions", follow_redirects=False,
                               data={"content": text, "note": "星球卡", "based_on": "0",
                                     "csrf_token": demo})
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/config/taxonomy/versions/1?saved=1"
        html = client.get(response.headers["location"]).text
        assert "已保存为第 1 版" in html
        assert '<span class="diff-add">+    keywords: [星球卡, 信用卡, 分期' in html
        assert '<span class="diff-del">-    keywords: [信用卡, 分期' in html
        kind = client.get("/admin/config/taxonomy").text
        assert 'data-version="1"' in kind
        assert "星球卡" in kind  # the note
        assert "当前生效：配置文件" in kind

    def test_a_bad_edit_comes_back_with_line_and_reason_and_saves_nothing(
        self, client: TestClient, demo: str, world: World
    ) -> None:
        text = shipped(client).replace("jrt_business: credit_card", "jrt_business: plastic")
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "plastic" in t)
        response = client.post("/admin/config/taxonomy/versions",
                               data={"content": text, "note": "typo", "based_on": "0",
                                     "csrf_token": demo})
        assert response.status_code == 422
        assert f"第 {line} 行" in response.text
        assert "&#39;plastic&#39; is not a JR/T 0169-2018 business type" in response.text
        assert 'aria-invalid="true"' in response.text
        assert "plastic" in response.text.split('id="f-content"')[1]  # the edit is kept
        assert saved_versions(world) == 0

    def test_a_bad_contact_targets_edit_comes_back_with_line_and_reason(
        self, client: TestClient, demo: str, world: World
    ) -> None:
        text = shipped(client, "contact_targets").replace(
            "service_level: {target: 80, better: higher}",
            "service_level: {target: 180, better: higher}")
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "180" in t)
        response = client.post("/admin/config/contact_targets/versions",
                               data={"content": text, "note": "typo", "based_on": "0",
                                     "csrf_token": demo})
        assert response.status_code == 422
        assert f"第 {line} 行" in response.text
        assert "a percentage between 0 and 100" in response.text
        assert saved_versions(world) == 0

    def test_a_save_without_a_note_is_refused(self, client: TestClient, demo: str,
                                              world: World) -> None:
        text = shipped(client, "workflow").replace("handler: 5000", "handler: 6000")
        response = client.post("/admin/config/workflow/versions",
                               data={"content": text, "note": "", "csrf_token": demo})
        assert response.status_code == 422
        assert saved_versions(world) == 0

    def test_an_analyst_may_not_edit(self, client: TestClient, world: World) -> None:
        headers = auth(world, "hq_analyst")
        assert client.get("/admin/config/taxonomy/edit", headers=headers).status_code == 403
        posted = client.post("/admin/config/taxonomy/versions", headers=headers,
                             data={"content": "x: 1", "note": "n"})
        assert posted.status_code == 403
        assert 'action="/admin/config/taxonomy/rollback"' not in client.get(
            "/admin/config/taxonomy", headers=headers).text

    def test_an_unknown_kind_is_a_404_page(self, client: TestClient) -> None:
        assert client.get("/admin/config/horoscope").status_code == 404


@pytest.mark.usefixtures("demo")
class TestActivateAndRollBack:
    def save(self, client: TestClient, demo: str) -> None:
        text = shipped(client).replace("keywords: [信用卡, 分期", "keywords: [星球卡, 信用卡, 分期")
        client.post("/admin/config/taxonomy/versions", follow_redirects=False,
                    data={"content": text, "note": "星球卡", "csrf_token": demo})

    def test_activating_puts_the_version_in_force(self, client: TestClient, demo: str,
                                                  world: World) -> None:
        self.save(client, demo)
        response = client.post("/admin/config/taxonomy/versions/1/activate",
                               data={"note": "新卡种", "csrf_token": demo},
                               follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "已启用：当前生效第 1 版" in html
        assert "当前生效：第 1 版" in html
        assert "新卡种" in html  # the activation's note, in the record
        assert 'action="/admin/config/taxonomy/rollback"' in html
        configstore.refresh(world.session, max_age=0)
        assert TextAnalyzer().analyze(STAR_CARD).product == "credit_card"

    def test_rolling_back_restores_the_file(self, client: TestClient, demo: str,
                                            world: World) -> None:
        self.save(client, demo)
        client.post("/admin/config/taxonomy/versions/1/activate",
                    data={"csrf_token": demo})
        response = client.post("/admin/config/taxonomy/rollback",
                               data={"note": "撤回", "csrf_token": demo},
                               follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "已回退：当前生效第 0 版" in html
        configstore.refresh(world.session, max_age=0)
        assert TextAnalyzer().analyze(STAR_CARD).product != "credit_card"

    def test_activating_the_version_in_force_says_so(self, client: TestClient,
                                                     demo: str) -> None:
        response = client.post("/admin/config/taxonomy/versions/0/activate",
                               data={"csrf_token": demo})
        assert response.status_code == 409
        assert "该版本已在生效中。" in response.text

    def test_nothing_to_roll_back_says_so(self, client: TestClient, demo: str) -> None:
        response = client.post("/admin/config/grading/rollback", data={"csrf_token": demo})
        assert response.status_code == 422
        assert "nothing to roll back" in response.text

    def test_a_form_without_its_token_is_refused(self, client: TestClient) -> None:
        response = client.post("/admin/config/taxonomy/rollback", data={})
        assert response.status_code == 403
