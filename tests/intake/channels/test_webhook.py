"""The signed webhook: WeChat, chat and social messages through the API, and over real HTTP."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.api.app import create_app
from bankvoc.cases.models import Attachment, Case
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.intake.channels.models import ChannelMessage, MonitoredMention
from bankvoc.intake.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, parse_secrets
from tests.conftest import World, auth
from tests.intake.channels.conftest import MAX_ATTACHMENT, SECRETS, free_port, signed

COMPLAINT = "信用卡年费被多扣了200元，客服态度很差，要求退还"
SOCIAL_COMPLAINT = "@某银行 信用卡年费乱扣200元，客服态度极差，电话13812345678打了十次没人管！"
NEUTRAL = "某银行今天发布了三季度财报"


def _message(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "msg-1", "sent_at": "2026-11-26T09:30:00+08:00",
                            "channel_user": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "text": COMPLAINT}
    body.update(changes)
    return body


def _post(client: TestClient, channel: str, payload: dict[str, Any] | bytes,
          **sign_options: Any) -> Any:
    body, headers = signed(channel, payload, **sign_options)
    return client.post(f"/api/v1/channels/{channel}/messages", content=body, headers=headers)


class TestParseSecrets:
    def test_a_channel_named_twice_has_both_secrets(self) -> None:
        assert parse_secrets("wechat:new, chat:c:with:colons ,wechat:old,bad,") == {
            "wechat": ["new", "old"], "chat": ["c:with:colons"]}


class TestSignature:
    def test_a_correctly_signed_message_is_accepted(self, client: TestClient) -> None:
        response = _post(client, "wechat", _message())
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(("header", "value"), [
        (SIGNATURE_HEADER, "sha256=" + "0" * 64),
        (SIGNATURE_HEADER, "md5=abc"),
        (TIMESTAMP_HEADER, "yesterday"),
    ])
    def test_a_bad_header_is_401_naming_it(self, client: TestClient, header: str,
                                           value: str) -> None:
        body, headers = signed("wechat", _message())
        response = client.post("/api/v1/channels/wechat/messages", content=body,
                               headers={**headers, header: value})
        assert response.status_code == 401
        assert response.json()["field"] == header

    def test_missing_headers_are_401(self, client: TestClient) -> None:
        body = json.dumps(_message()).encode()
        response = client.post("/api/v1/channels/wechat/messages", content=body)
        assert response.status_code == 401
        assert set(response.json()) == {"code", "message", "field"}

    def test_another_channels_secret_is_401(self, client: TestClient) -> None:
        response = _post(client, "wechat", _message(), secret=SECRETS["chat"])
        assert response.status_code == 401

    def test_a_tampered_body_is_401(self, client: TestClient) -> None:
        body, headers = signed("wechat", _message())
        tampered = body.replace(b"200", b"900")
        response = client.post("/api/v1/channels/wechat/messages", content=tampered,
                               headers=headers)
        assert response.status_code == 401

    def test_a_stale_or_early_timestamp_is_401(self, client: TestClient) -> None:
        for offset in (-301, 301):
            response = _post(client, "wechat", _message(), at=time.time() + offset)
            assert response.status_code == 401
            assert response.json()["field"] == TIMESTAMP_HEADER

    def test_a_fresh_timestamp_on_an_old_signature_is_401(self, client: TestClient) -> None:
        body, headers = signed("wechat", _message(), at=time.time() - 600)
        headers[TIMESTAMP_HEADER] = str(int(time.time()))
        response = client.post("/api/v1/channels/wechat/messages", content=body,
                               headers=headers)
        assert response.status_code == 401
        assert response.json()["field"] == SIGNATURE_HEADER

    def test_a_replay_within_the_window_changes_nothing(self, client: TestClient) -> None:
        body, headers = signed("wechat", _message())
        first = client.post("/api/v1/channels/wechat/messages", content=body, headers=headers)
        again = client.post("/api/v1/channels/wechat/messages", content=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["outcome"] == "unchanged"
        assert again.json()["reference"] == first.json()["reference"]

    def test_while_rotating_either_secret_is_accepted(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_CHANNEL_SECRETS", "wechat:new-secret,wechat:old-secret")
        reset_settings()
        assert _post(client, "wechat", _message(id="a"), secret="old-secret").status_code == 201
        assert _post(client, "wechat", _message(id="b"), secret="new-secret").status_code == 201
        assert _post(client, "chat", _message(id="c"), secret="old-secret").status_code == 401

    def test_an_unknown_channel_is_404(self, client: TestClient) -> None:
        body, headers = signed("wechat", _message())
        response = client.post("/api/v1/channels/fax/messages", content=body, headers=headers)
        assert response.status_code == 404
        assert response.json()["field"] == "channel"


class TestMessages:
    def test_a_wechat_message_becomes_a_wechat_case_with_its_customer(
        self, client: TestClient, world: World
    ) -> None:
        payload = _message(customer={"name": "张三", "phone": "138 1234 5678"})
        response = _post(client, "wechat", payload)
        assert response.status_code == 201, response.text
        receipt = response.json()
        assert receipt["outcome"] == "accepted"
        case = client.get(f"/api/v1/cases/{receipt['reference']}",
                          headers=auth(world, "hq_admin")).json()
        assert case["channel"] == "wechat"
        assert case["product"] == "credit_card"
        assert case["customer"]["phone"] == "138****5678"
        assert case["received_at"].startswith("2026-11-26T01:30:00")

    def test_a_chat_message_becomes_a_web_case(self, client: TestClient, world: World) -> None:
        receipt = _post(client, "chat", _message(id="chat-1")).json()
        case = client.get(f"/api/v1/cases/{receipt['reference']}",
                          headers=auth(world, "hq_admin")).json()
        assert case["channel"] == "web"

    def test_attachments_become_evidence_and_too_large_ones_are_noted(
        self, client: TestClient, world: World
    ) -> None:
        files = [{"filename": "账单.png", "content_type": "image/png",
                  "base64": base64.b64encode(b"\x89PNG-bill").decode()},
                 {"filename": "录像.mp4", "content_type": "video/mp4",
                  "base64": base64.b64encode(b"v" * (MAX_ATTACHMENT + 1)).decode()}]
        receipt = _post(client, "wechat", _message(attachments=files)).json()
        assert (receipt["attachments_added"], receipt["attachments_refused"]) == (1, 1)
        listed = client.get(f"/api/v1/cases/{receipt['reference']}/attachments",
                            headers=auth(world, "hq_admin")).json()
        assert [a["filename"] for a in listed] == ["账单.png"]
        events = client.get(f"/api/v1/cases/{receipt['reference']}/events",
                            headers=auth(world, "hq_admin")).json()
        assert "attachment_refused" in [e["type"] for e in events]

    def test_bad_json_is_422_naming_the_body(self, client: TestClient) -> None:
        response = _post(client, "wechat", b'{"id": "x", "text": ')
        assert response.status_code == 422
        assert response.json()["field"] == "body"

    @pytest.mark.parametrize(("changes", "field"), [
        ({"customer": {"phone": "12345"}}, "customer.phone"),
        ({"attachments": [{"filename": "a", "base64": "not base64!"}]},
         "attachments.0.base64"),
        ({"text": ""}, "text"),
        ({"sent_at": "2099-01-01T00:00:00+08:00"}, "sent_at"),
        ({"sent_at": "soon"}, "sent_at"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"colour": "red"}, "colour"),
    ])
    def test_a_bad_value_is_422_naming_the_field(
        self, client: TestClient, changes: dict[str, Any], field: str
    ) -> None:
        response = _post(client, "wechat", _message(**changes))
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field

    @pytest.mark.parametrize(("channel", "text"), [("wechat", COMPLAINT), ("chat", COMPLAINT),
                                                   ("social", SOCIAL_COMPLAINT),
                                                   ("social", NEUTRAL)])
    def test_a_message_from_the_future_is_422_and_nothing_is_kept(
        self, client: TestClient, world: World, channel: str, text: str
    ) -> None:
        response = _post(client, channel, _message(id="future-1", text=text,
                                                   sent_at="2099-01-01T00:00:00+08:00"))
        assert response.status_code == 422, response.text
        assert (response.json()["field"], response.json()["message"]) == (
            "sent_at", "sent_at: is in the future")
        world.session.expire_all()
        for model in (Case, ChannelMessage, MonitoredMention):
            assert world.session.scalar(select(model).limit(1)) is None, model

    def test_a_bad_phone_is_422_naming_it_even_on_a_post_that_stays_a_mention(
        self, client: TestClient, world: World
    ) -> None:
        for channel, text in (("wechat", COMPLAINT), ("social", NEUTRAL)):
            response = _post(client, channel, _message(id=f"{channel}-phone", text=text,
                                                       customer={"phone": "12345"}))
            assert response.status_code == 422, response.text
            assert response.json()["field"] == "customer.phone"
            assert "is not a mainland mobile" in response.json()["message"]
        assert world.session.scalar(select(MonitoredMention).limit(1)) is None

    def test_a_missing_field_is_422_naming_it(self, client: TestClient) -> None:
        payload = _message()
        del payload["channel_user"]
        response = _post(client, "chat", payload)
        assert (response.status_code, response.json()["field"]) == (422, "channel_user")

    def test_without_its_user_the_webhook_is_503(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "nobody")
        reset_settings()
        response = _post(client, "wechat", _message())
        assert response.status_code == 503
        assert response.json()["code"] == "channel_unavailable"

    def test_the_shape_is_in_the_openapi_spec(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        operation = spec["paths"]["/api/v1/channels/{channel}/messages"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body["$ref"].endswith("/ChannelMessageIn")
        shape = spec["components"]["schemas"]["ChannelMessageIn"]
        assert {"id", "sent_at", "channel_user", "customer", "text", "attachments", "url",
                "author"} == set(shape["properties"])
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {SIGNATURE_HEADER, TIMESTAMP_HEADER}


class TestSocialMentions:
    def test_a_complaint_becomes_a_mention_and_a_case(
        self, client: TestClient, world: World
    ) -> None:
        response = _post(client, "social", _message(
            id="weibo:4930", text=SOCIAL_COMPLAINT, url="https://weibo.example/u/1/4930",
            author="小王爱旅游"))
        assert response.status_code == 201, response.text
        receipt = response.json()
        assert (receipt["outcome"], receipt["is_complaint"]) == ("accepted", True)
        case = client.get(f"/api/v1/cases/{receipt['reference']}",
                          headers=auth(world, "hq_admin")).json()
        assert case["channel"] == "third_party"
        mention = world.session.get(MonitoredMention, receipt["mention_id"])
        assert mention is not None
        assert mention.case_id is not None
        assert "13812345678" not in mention.text_masked
        assert mention.author == "小***"
        assert "credit_card" in mention.reason

    def test_a_neutral_mention_stays_a_mention(self, client: TestClient, world: World) -> None:
        response = _post(client, "social", _message(id="weibo:5000", text=NEUTRAL))
        assert response.status_code == 201
        receipt = response.json()
        assert (receipt["outcome"], receipt["is_complaint"], receipt["reference"]) == (
            "monitored", False, None)
        assert world.session.scalar(select(Case).where(Case.source_id == "weibo:5000")) is None

    def test_the_same_post_again_changes_nothing(self, client: TestClient) -> None:
        first = _post(client, "social", _message(id="weibo:1", text=SOCIAL_COMPLAINT)).json()
        again = _post(client, "social", _message(id="weibo:1", text=SOCIAL_COMPLAINT))
        assert again.status_code == 200
        assert again.json()["outcome"] == "unchanged"
        assert again.json()["reference"] == first["reference"]
        assert again.json()["mention_id"] == first["mention_id"]

    def test_the_mention_list_is_for_the_head_office(
        self, client: TestClient, world: World
    ) -> None:
        _post(client, "social", _message(id="weibo:1", text=SOCIAL_COMPLAINT))
        _post(client, "social", _message(id="weibo:2", text=NEUTRAL))
        listed = client.get("/api/v1/channels/mentions", headers=auth(world, "hq_analyst"))
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert [(m["source_id"], m["is_complaint"]) for m in items] == [
            ("weibo:2", False), ("weibo:1", True)]
        assert items[1]["reference"] is not None
        only = client.get("/api/v1/channels/mentions", params={"is_complaint": "false"},
                          headers=auth(world, "hq_analyst")).json()["items"]
        assert [m["source_id"] for m in only] == ["weibo:2"]
        page = client.get("/api/v1/channels/mentions", params={"limit": 1},
                          headers=auth(world, "hq_analyst")).json()
        rest = client.get("/api/v1/channels/mentions", params={"cursor": page["next_cursor"]},
                          headers=auth(world, "hq_analyst")).json()
        assert [m["source_id"] for m in page["items"] + rest["items"]] == ["weibo:2", "weibo:1"]
        branch = client.get("/api/v1/channels/mentions", headers=auth(world, "bj_handler"))
        assert branch.json()["items"] == []
        assert client.get("/api/v1/channels/mentions").status_code == 401


# --- over real HTTP ----------------------------------------------------------------------------

@pytest.fixture
def server(database: str) -> Iterator[str]:
    """The whole app under uvicorn on a loopback port, in a thread."""
    port = free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(20)


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class TestOverHttp:
    def test_signed_messages_over_loopback(self, server: str, database: str) -> None:
        url = f"{server}/api/v1/channels/wechat/messages"
        body, headers = signed("wechat", _message(id="http-1"))
        assert _http_post(url, body, headers)[0] == 201
        status, replayed = _http_post(url, body, headers)
        assert (status, replayed["outcome"]) == (200, "unchanged")
        wrong = {**headers, SIGNATURE_HEADER: "sha256=" + "f" * 64}
        status, error = _http_post(url, body, wrong)
        assert (status, error["field"]) == (401, SIGNATURE_HEADER)
        stale_body, stale = signed("wechat", _message(id="http-2"), at=time.time() - 3600)
        assert _http_post(url, stale_body, stale)[0] == 401
        social = f"{server}/api/v1/channels/social/messages"
        status, mention = _http_post(social, *signed("social", _message(
            id="weibo:http", text=SOCIAL_COMPLAINT)))
        assert (status, mention["is_complaint"]) == (201, True)
        status, neutral = _http_post(social, *signed("social", _message(
            id="weibo:http-2", text=NEUTRAL)))
        assert (status, neutral["outcome"]) == (201, "monitored")
        with unit_of_work(build_engine(database)) as session:
            cases = session.scalars(select(Case.source_id).order_by(Case.id)).all()
            senders = session.scalars(select(ChannelMessage.contact_masked)).all()
            assert session.scalar(select(Attachment)) is None
        assert cases == ["http-1", "weibo:http"]
        assert senders == ["oUp***", "oUp***"]
