"""`bankvoc channels smtp|imap` as an operator meets them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.settings import reset_settings
from tests.intake.channels.conftest import utf8_mail
from tests.intake.channels.fake_imap import FakeImapServer

runner = CliRunner()


class TestSmtpCommand:
    def test_refuses_to_start_without_allowed_domains(
        self, database: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_INBOUND_MAIL_DOMAINS", "")
        reset_settings()
        result = runner.invoke(app, ["channels", "smtp", "--port", "1"])
        assert result.exit_code == 2
        assert "BANKVOC_INBOUND_MAIL_DOMAINS" in result.stderr

    def test_refuses_to_start_without_its_user(
        self, database: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "nobody")
        reset_settings()
        result = runner.invoke(app, ["channels", "smtp"])
        assert result.exit_code == 2
        assert "'nobody' does not exist" in result.stderr


class TestImapCommand:
    def test_once_with_json_ends_with_the_counts(
        self, database: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with FakeImapServer(user="kf", password="pw") as server:
            server.mailbox.add(utf8_mail())
            for name, value in {"HOST": "127.0.0.1", "PORT": str(server.port), "SSL": "0",
                                "USER": "kf", "PASSWORD": "pw"}.items():
                monkeypatch.setenv(f"BANKVOC_IMAP_{name}", value)
            reset_settings()
            result = runner.invoke(app, ["channels", "imap", "--once", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {
            "stored": 1, "refused": 0, "deferred": 0, "ignored": 0, "held": 0}
