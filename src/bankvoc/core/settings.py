"""One place for configuration: `BANKVOC_*` environment variables or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bankvoc.core.errors import ConfigurationError

# Well-known values used only by the demo; anything else refuses to start with them.
DEMO_SECRET_KEY = "demo-secret-key-not-for-production-use-0000"
DEMO_PII_KEY = "k1:ZGVtby1waWkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANKVOC_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/bankvoc.db"
    broker_url: str | None = None
    secret_key: str | None = None
    # Keyring "id:base64key[,id:base64key…]"; the first entry encrypts, all of them decrypt.
    pii_key: str | None = None
    timezone: str = "Asia/Shanghai"
    demo: bool = False
    data_dir: Path = Path("./var")
    text_max_chars: int = Field(default=20_000, ge=100)
    import_batch_size: int = Field(default=2_000, ge=1)
    attachment_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    dedupe_window_days: int = Field(default=30, ge=1)
    # Automatic product/category decisions less sure than this wait for a handler's review.
    review_confidence: float = Field(default=0.5, ge=0, le=1)
    # A bank's own taxonomy (products, categories, JR/T mapping) instead of the shipped one.
    taxonomy_file: Path | None = None
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:  # zoneinfo raises several types for bad names
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_secret_key(self) -> str:
        return self.secret_key or DEMO_SECRET_KEY

    @property
    def effective_pii_key(self) -> str:
        return self.pii_key or DEMO_PII_KEY

    def check_safe(self) -> None:
        """Refuse demo secrets outside demo mode: a bank must set its own keys."""
        if self.demo:
            return
        problems = []
        if not self.secret_key or self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("BANKVOC_SECRET_KEY must be set to a random value of 32+ characters")
        if not self.pii_key or self.pii_key == DEMO_PII_KEY:
            problems.append("BANKVOC_PII_KEY must be set to the bank's own key ring")
        if problems:
            raise ConfigurationError(
                "unsafe configuration outside demo mode: " + "; ".join(problems)
                + " (or set BANKVOC_DEMO=1 for a demonstration)",
                field="settings",
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and commands that change the environment)."""
    get_settings.cache_clear()
