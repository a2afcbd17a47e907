"""One place for configuration: `BANKVOC_*` environment variables or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bankvoc.core.errors import ConfigurationError

# Well-known values used only by the demo; anything else refuses to start with them.
DEMO_SECRET_KEY = "demo-secret-key-not-for-production-use-0000"
DEMO_PII_KEY = "k1:ZGVtby1waWkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
# Complaint records are kept at least 3 years after closure (PBoC 2020 No. 5 art. 44).
MIN_RETENTION_YEARS = 3


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANKVOC_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/bankvoc.db"
    # Background jobs (bankvoc.jobs). With a broker (redis://… or amqp://…) they run on Celery:
    # `bankvoc worker` processes run them, `bankvoc scheduler` (Celery beat) times the periodic
    # ones. Unset: they run in this process (APScheduler; follow-up jobs see `jobs_local`).
    broker_url: str | None = None
    # The queue (and exchange) of this installation's jobs on the broker.
    broker_queue: str = Field(default="bankvoc", pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    # Redis only: a job taken by a worker that died (SIGKILL, lost machine) goes back to the
    # queue once it has been unacknowledged this long; keep it above the longest job (a job
    # still running then is run a second time, which idempotent jobs allow).
    broker_visibility_timeout_seconds: float = Field(default=3600.0, gt=0)
    # Periodic jobs' intervals in seconds instead of their own, as JSON ({"notify.dispatch": 10}).
    job_intervals: dict[str, float] = Field(default_factory=dict)
    # Extra modules declaring @job functions, besides every feature's tasks.py ("a.b,c.d").
    job_modules: str = ""
    # Without a broker, a job enqueued with `enqueue_job` runs after its transaction commits:
    # "thread" in a small pool of this process (the committing request does not wait),
    # "inline" in the committing thread, "off" not at all (the periodic schedule catches up);
    # "auto": "thread" in a process that runs the in-process scheduler (`bankvoc serve`,
    # `bankvoc scheduler`), else "off" (one-shot commands such as a bulk import or the demo
    # load leave it to the scheduler, rather than compete with themselves for SQLite's lock).
    jobs_local: Literal["auto", "thread", "inline", "off"] = "auto"
    secret_key: str | None = None
    # Keyring "id:base64key[,id:base64key…]"; the first entry encrypts, all of them decrypt.
    pii_key: str | None = None
    timezone: str = "Asia/Shanghai"
    demo: bool = False
    data_dir: Path = Path("./var")
    text_max_chars: int = Field(default=20_000, ge=100)
    import_batch_size: int = Field(default=5_000, ge=1)
    attachment_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    dedupe_window_days: int = Field(default=30, ge=1)
    # Automatic product/category decisions less sure than this wait for a handler's review.
    review_confidence: float = Field(default=0.5, ge=0, le=1)
    # A bank's own taxonomy (products, categories, JR/T mapping) instead of the shipped one.
    taxonomy_file: Path | None = None
    # A bank's own deadline policy (statutory clocks, its targets, warnings) instead of the
    # shipped one, and its holiday calendar for years chinese-calendar does not cover yet.
    sla_policy_file: Path | None = None
    calendar_file: Path | None = None
    # A bank's own routing rules and authority limits (cases/workflow/workflow.yaml).
    workflow_file: Path | None = None
    # A bank's own early-warning rules (alerts/rules.yaml), dispute-resolution self-check lines
    # (reports/selfcheck.yaml), RFM segment map (customers/segments.yaml) and customer journeys
    # (analytics/journeys.yaml) instead of the shipped ones.
    alerts_rules_file: Path | None = None
    selfcheck_file: Path | None = None
    segments_file: Path | None = None
    journeys_file: Path | None = None
    log_level: str = "INFO"
    # Log lines on stderr: one JSON object each (for a log collector), or plain text.
    log_format: Literal["json", "text"] = "json"
    # /metrics (bankvoc.ops): scrapers send "Authorization: Bearer <token>"; while unset, only
    # clients on this machine (loopback, no proxy in between) may read it.
    metrics_token: str | None = None
    # Notifications (bankvoc.notify): the adapter per channel; "file" appends JSON Lines under
    # data_dir/notify, "console" prints to stderr (both for the demo), "smtp"/"http" deliver.
    notify_sms: Literal["file", "console"] = "file"
    notify_wechat: Literal["file", "console"] = "file"
    notify_email: Literal["smtp", "file", "console"] = "file"
    notify_webhook: Literal["http", "file", "console"] = "http"
    # A bank's own wording instead of the shipped notify/templates.yaml.
    notify_templates_file: Path | None = None
    # Outbox dispatch: attempts before the dead letter; back-off base * 2^(attempt-1), capped;
    # how long a claimed ("sending") row waits before another dispatcher takes it over.
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_base_seconds: float = Field(default=30.0, gt=0)
    notify_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    notify_sending_timeout_seconds: float = Field(default=300.0, gt=0)
    notify_batch_size: int = Field(default=100, ge=1)
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "bankvoc@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Webhooks are signed with HMAC-SHA256: a secret per endpoint (a JSON object keyed by the
    # full URL or by its origin "https://host[:port]"), else the default secret.
    webhook_secret: str | None = None
    webhook_secrets: dict[str, str] = Field(default_factory=dict)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Channels in (bankvoc.intake.channels): the user every adapter registers cases as (give it
    # a dedicated account with the agent role in production), the inbound webhooks' HMAC
    # secrets "channel:secret[,channel:secret…]" (a channel named twice accepts either secret,
    # for rotation), how far a webhook's timestamp may be from our clock, and its body limit.
    channel_user: str = "admin"
    channel_secrets: str | None = None
    channel_max_skew_seconds: int = Field(default=300, ge=1)
    channel_max_body_bytes: int = Field(default=80 * 1024 * 1024, ge=1024)
    # Inbound mail: the recipient domains `bankvoc channels smtp` accepts mail for
    # ("bank.example,kf.bank.example"; none accepted while unset) and its message size limit.
    inbound_mail_domains: str = ""
    inbound_mail_max_bytes: int = Field(default=80 * 1024 * 1024, ge=1024)
    # A sender with more mails than this within an hour is held for review, not registered.
    inbound_mail_max_per_hour: int = Field(default=20, ge=1)
    # The mailbox `bankvoc channels imap` polls.
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_ssl: bool = True
    imap_user: str | None = None
    imap_password: str | None = None
    imap_mailbox: str = "INBOX"
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    # Retention (bankvoc.cases.retention): a finished case is kept at least this many years
    # after its closure (PBoC 2020 No. 5 art. 44: 3 years at least), then anonymised unless it
    # is under legal hold; the purge works through the due cases this many at a time.
    retention_years: int = 3
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Accounts (bankvoc.orgs.auth): a password has at least this many characters; this many
    # failed log-ins for one user name within the window lock it for the lock-out time, and
    # this many from one client address within the window hold that address back until they
    # age out (both counted in the database, so every API process enforces them together).
    password_min_length: int = Field(default=10, ge=8, le=128)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_ip_max_failures: int = Field(default=30, ge=1)
    # A log-in session ends after this long without a request, and this long after log-in
    # whatever happens.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    # The site is served over TLS (directly or behind a proxy): cookies get `Secure` and the
    # session cookie the `__Host-` prefix.
    secure_cookies: bool = False
    # API tokens (bankvoc.orgs.tokens): how many days a new token lives unless told otherwise.
    api_token_days: int = Field(default=90, ge=1, le=3660)
    # The TOTP second factor (bankvoc.orgs.totp): roles that must enrol at log-in ("admin,cpo";
    # empty: it stays optional for admin and cpo, the roles that may enrol).
    totp_required_roles: str = ""
    # Proxies whose X-Forwarded-For is believed for the client's address ("10.0.0.0/8,
    # 192.168.1.5"; empty: the peer's own address counts, X-Forwarded-For is ignored).
    trusted_proxies: str = ""
    # Housekeeping of accounts (job orgs.auth_cleanup): the auth_event audit trail is kept this
    # many days; ended sessions, old failed log-ins and lapsed locks go once out of every use.
    auth_event_keep_days: int = Field(default=400, ge=30)
    # The customer's own page (bankvoc.portal): filings per client address and hour; code
    # requests per client address and per reference or phone and hour; wrong codes per client
    # address and hour; how long a one-time code lives and how many tries it allows; how long
    # a customer's portal session lasts; evidence files per form and the size of each
    # (never above BANKVOC_ATTACHMENT_MAX_BYTES); supplements per case and hour. Counted in
    # the database, so every API process enforces them together.
    portal_filings_per_hour: int = Field(default=5, ge=1)
    portal_code_requests_per_hour: int = Field(default=10, ge=1)
    portal_code_requests_per_case_per_hour: int = Field(default=3, ge=1)
    portal_code_failures_per_hour: int = Field(default=20, ge=1)
    portal_code_minutes: int = Field(default=10, ge=1, le=60)
    portal_code_attempts: int = Field(default=5, ge=1, le=20)
    portal_session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    portal_max_files: int = Field(default=5, ge=0, le=20)
    portal_file_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    portal_supplements_per_hour: int = Field(default=10, ge=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:  # zoneinfo raises several types for bad names
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("job_intervals")
    @classmethod
    def _positive_intervals(cls, value: dict[str, float]) -> dict[str, float]:
        for name, seconds in value.items():
            if not seconds > 0:
                raise ValueError(f"job_intervals (BANKVOC_JOB_INTERVALS): {name!r} needs a "
                                 "positive number of seconds")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ip_network(part.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(f"trusted_proxies (BANKVOC_TRUSTED_PROXIES): {part.strip()!r}"
                                     " is not an address or a CIDR network") from exc
        return value

    @property
    def trusted_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(part.strip(), strict=False)
                for part in self.trusted_proxies.split(",") if part.strip()]

    @field_validator("retention_years")
    @classmethod
    def _statutory_minimum(cls, value: int) -> int:
        if value < MIN_RETENTION_YEARS:
            raise ValueError(
                f"retention_years (BANKVOC_RETENTION_YEARS) must be at least "
                f"{MIN_RETENTION_YEARS}: complaint records are kept {MIN_RETENTION_YEARS} years "
                f"after closure (PBoC 2020 No. 5 art. 44); got {value}")
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
