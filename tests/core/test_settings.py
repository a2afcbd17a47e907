from __future__ import annotations

import pytest
from pydantic import ValidationError

from bankvoc.core.errors import ConfigurationError
from bankvoc.core.settings import DEMO_PII_KEY, DEMO_SECRET_KEY, Settings


class TestCheckSafe:
    def test_refuses_missing_keys_outside_demo_mode(self) -> None:
        settings = Settings(secret_key=None, pii_key=None, demo=False)
        with pytest.raises(ConfigurationError, match="BANKVOC_SECRET_KEY"):
            settings.check_safe()

    def test_refuses_the_demo_keys_outside_demo_mode(self) -> None:
        settings = Settings(secret_key=DEMO_SECRET_KEY, pii_key=DEMO_PII_KEY, demo=False)
        with pytest.raises(ConfigurationError, match="BANKVOC_PII_KEY"):
            settings.check_safe()

    def test_refuses_a_short_secret(self) -> None:
        settings = Settings(secret_key="short", pii_key="k9:" + "A" * 44, demo=False)
        with pytest.raises(ConfigurationError, match="32"):
            settings.check_safe()

    def test_accepts_demo_mode_without_keys(self) -> None:
        Settings(secret_key=None, pii_key=None, demo=True).check_safe()

    def test_accepts_the_banks_own_keys(self) -> None:
        Settings(secret_key="x" * 40, pii_key="k9:" + "A" * 44, demo=False).check_safe()


class TestTimezone:
    def test_unknown_zone_is_refused_by_name(self) -> None:
        with pytest.raises(ValueError, match="Mars/Olympus"):
            Settings(timezone="Mars/Olympus")

    def test_reads_environment_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_TIMEZONE", "UTC")
        assert Settings().timezone == "UTC"


class TestRetention:
    def test_keeps_cases_three_years_by_default(self) -> None:
        assert Settings().retention_years == 3

    def test_fewer_than_three_years_is_refused_naming_the_setting(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_RETENTION_YEARS", "2")
        with pytest.raises(ValidationError, match="retention_years") as refused:
            Settings()
        assert "at least 3" in str(refused.value)

    def test_a_longer_period_is_the_banks_to_set(self) -> None:
        assert Settings(retention_years=10).retention_years == 10
