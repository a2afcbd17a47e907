"""Operational service data imported row by row from the bank's systems. Never commits.

Four kinds of file, each a row per record (Chinese headers understood, see `HEADERS`):

- `queue`: a queue-system ticket (排队叫号) — `org` (the outlet's code), `ticket_id`,
  `business_type`, `issued_at`, `called_at`, `finished_at`. Wait and handling seconds are
  worked out from the times; a ticket never called has neither (the customer left).
- `channel`: a digital channel's day — `channel` (mobile_app, online_banking, wechat,
  phone_ivr, mini_program), `org` (default: head office), `day`, `availability_pct`,
  `response_avg_ms`, `response_p95_ms`, `requests`.
- `process`: a business process from start to finish — `process_type`, `record_id`, `org`,
  `started_at`, `finished_at` (empty while still open).
- `usage`: digital-tool use of an org in a month — `org`, `month` (2026-10), `app_mau`,
  `self_service_txns`, `counter_txns`, `assistant_sessions`, `assistant_resolved`.

Times without a zone are the bank's local time. Each record is stored once per natural key
(models.py): a resend changes nothing, a corrected row updates the stored one. A row that
cannot be stored is refused with its field and reason, and the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.core.db import insert_new
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.rowimport import ImportCounts, OnReject
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import as_utc, utcnow
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import ROOT_ORG_CODE, Actor
from bankvoc.servicedata.models import ChannelDay, DigitalUsage, ProcessRecord, QueueTicket

Kind = Literal["queue", "channel", "process", "usage"]
KINDS: tuple[Kind, ...] = ("queue", "channel", "process", "usage")
PERMISSION = "servicedata.import"

CHANNELS = ("mobile_app", "online_banking", "wechat", "phone_ivr", "mini_program")

# Headers of the bank's exports, by field (Chinese as the systems write them).
HEADERS = {
    "网点": "org", "网点代码": "org", "机构": "org", "机构代码": "org", "机构号": "org",
    "票号": "ticket_id", "排队号": "ticket_id", "取号号码": "ticket_id", "号码": "ticket_id",
    "业务类型": "business_type", "业务种类": "business_type",
    "取号时间": "issued_at", "叫号时间": "called_at", "办结时间": "finished_at",
    "结束时间": "finished_at", "完成时间": "finished_at",
    "渠道": "channel", "日期": "day", "可用率": "availability_pct",
    "平均响应时间": "response_avg_ms", "平均响应时间(毫秒)": "response_avg_ms",
    "P95响应时间": "response_p95_ms", "响应时间P95": "response_p95_ms",
    "请求量": "requests", "交易量": "requests",
    "流程类型": "process_type", "流程": "process_type", "流水号": "record_id",
    "业务编号": "record_id", "申请编号": "record_id", "开始时间": "started_at",
    "受理时间": "started_at",
    "月份": "month", "手机银行月活": "app_mau", "月活跃用户": "app_mau",
    "自助交易笔数": "self_service_txns", "自助办理笔数": "self_service_txns",
    "柜面交易笔数": "counter_txns", "智能助手会话数": "assistant_sessions",
    "智能客服会话量": "assistant_sessions", "智能助手解决数": "assistant_resolved",
    "机器人解决量": "assistant_resolved",
}
BUSINESS_TYPES = {"现金业务": "cash", "现金": "cash", "个人业务": "personal",
                  "个人非现金": "personal", "对公业务": "corporate", "对公": "corporate",
                  "理财业务": "wealth", "理财": "wealth", "贵宾": "vip", "贵宾业务": "vip"}
CHANNEL_NAMES = {"手机银行": "mobile_app", "网上银行": "online_banking",
                 "网银": "online_banking", "微信银行": "wechat", "微信": "wechat",
                 "电话银行": "phone_ivr", "电话语音": "phone_ivr", "ivr": "phone_ivr",
                 "小程序": "mini_program"}
PROCESS_TYPES = {"个人开户": "account_opening", "开户": "account_opening",
                 "对公开户": "corporate_account_opening", "贷款审批": "loan_approval",
                 "发卡": "card_issuance", "信用卡发卡": "card_issuance"}
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*月?\s*$")


def _code(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        text = value.strip()
        return names.get(text, names.get(text.lower(), text.lower() if text.isascii() else text))
    return value


def _text_id(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int) else value


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class QueueIn(_Row):
    org: str = Field(min_length=1, max_length=32, description="The outlet's code")
    ticket_id: str = Field(min_length=1, max_length=64)
    business_type: str = Field(min_length=1, max_length=40)
    issued_at: datetime
    called_at: datetime | None = None
    finished_at: datetime | None = None

    _ids = field_validator("org", "ticket_id", mode="before")(_text_id)

    @field_validator("business_type", mode="before")
    @classmethod
    def _business(cls, value: Any) -> Any:
        return _code(value, BUSINESS_TYPES)


class ChannelIn(_Row):
    channel: str
    org: str | None = Field(default=None, max_length=32)
    day: date
    availability_pct: float = Field(ge=0, le=100)
    response_avg_ms: float = Field(ge=0)
    response_p95_ms: float | None = Field(default=None, ge=0)
    requests: int | None = Field(default=None, ge=0)

    _ids = field_validator("org", mode="before")(_text_id)

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any) -> Any:
        found = _code(value, CHANNEL_NAMES)
        if found not in CHANNELS:
            raise ValueError(f"{value!r} is not a channel (known: {', '.join(CHANNELS)})")
        return found

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        return value.date() if isinstance(value, datetime) else value

    @field_validator("availability_pct", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        return value.strip().removesuffix("%") if isinstance(value, str) else value


class ProcessIn(_Row):
    process_type: str = Field(min_length=1, max_length=40)
    record_id: str = Field(min_length=1, max_length=64)
    org: str = Field(min_length=1, max_length=32)
    started_at: datetime
    finished_at: datetime | None = None

    _ids = field_validator("org", "record_id", mode="before")(_text_id)

    @field_validator("process_type", mode="before")
    @classmethod
    def _process(cls, value: Any) -> Any:
        return _code(value, PROCESS_TYPES)


class UsageIn(_Row):
    org: str = Field(min_length=1, max_length=32)
    month: date
    app_mau: int | None = Field(default=None, ge=0)
    self_service_txns: int | None = Field(default=None, ge=0)
    counter_txns: int | None = Field(default=None, ge=0)
    assistant_sessions: int | None = Field(default=None, ge=0)
    assistant_resolved: int | None = Field(default=None, ge=0)

    _ids = field_validator("org", mode="before")(_text_id)

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return value.replace(day=1)
        if isinstance(value, str):
            found = _MONTH.match(value)
            if found is None or not 1 <= int(found.group(2)) <= 12:
                raise ValueError(f"{value!r} is not a month (write 2026-10)")
            return date(int(found.group(1)), int(found.group(2)), 1)
        return value


MODELS: dict[Kind, type[_Row]] = {"queue": QueueIn, "channel": ChannelIn, "process": ProcessIn,
                                  "usage": UsageIn}


def record_of(values: dict[str, Any]) -> dict[str, Any]:
    """A file row's values keyed by field (Chinese headers translated, blanks left out)."""
    record: dict[str, Any] = {}
    for header, value in values.items():
        name = str(header).strip()
        name = HEADERS.get(name, HEADERS.get(name.replace(" ", ""), name.lower()))
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        record[name] = value
    return record


def parse(kind: Kind, values: dict[str, Any]) -> _Row:
    """The record of a row, or Invalid naming the (first) field that is wrong."""
    try:
        return MODELS[kind].model_validate(record_of(values))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"]) or "row"
        raise Invalid(str(error["msg"]).removeprefix("Value error, "), field=where) from None


# --- resolving a record to its stored columns ----------------------------------------------------

@dataclass
class Lookups:
    """What one import looks up once: orgs by code."""

    orgs: dict[str, Org] = field(default_factory=dict)


def _org(session: Session, actor: Actor, code: str, lookups: Lookups) -> Org:
    org = lookups.orgs.get(code)
    if org is None:
        try:
            org = org_service.get_org_by_code(session, code=code)
        except BankvocError:
            raise Invalid(f"no org has code {code!r}", field="org") from None
        lookups.orgs[code] = org
    if not org_service.org_visible(actor, org):
        raise Invalid(f"org {code!r} is outside your scope", field="org")
    return org


def _seconds(later: datetime, earlier: datetime) -> int:
    return round((later - earlier).total_seconds())


def _queue(session: Session, actor: Actor, data: QueueIn,
           lookups: Lookups) -> tuple[dict[str, Any], dict[str, Any]]:
    tz = get_settings().tz
    issued = as_utc(data.issued_at, tz)
    called = as_utc(data.called_at, tz) if data.called_at else None
    finished = as_utc(data.finished_at, tz) if data.finished_at else None
    if called is not None and called < issued:
        raise Invalid("called before the ticket was issued", field="called_at")
    if finished is not None and called is None:
        raise Invalid("finished but never called to a counter", field="finished_at")
    if finished is not None and called is not None and finished < called:
        raise Invalid("finished before it was called", field="finished_at")
    org = _org(session, actor, data.org, lookups)
    key = {"org_id": org.id, "service_date": issued.astimezone(tz).date(),
           "ticket_id": data.ticket_id}
    return key, {"business_type": data.business_type, "issued_at": issued, "called_at": called,
                 "finished_at": finished,
                 "wait_s": _seconds(called, issued) if called else None,
                 "handle_s": _seconds(finished, called) if finished and called else None}


def _channel(session: Session, actor: Actor, data: ChannelIn,
             lookups: Lookups) -> tuple[dict[str, Any], dict[str, Any]]:
    if data.response_p95_ms is not None and data.response_p95_ms < data.response_avg_ms:
        raise Invalid("the P95 response time is below the average", field="response_p95_ms")
    org = _org(session, actor, data.org or ROOT_ORG_CODE, lookups)
    return ({"channel": data.channel, "org_id": org.id, "day": data.day},
            {"availability_pct": data.availability_pct, "response_avg_ms": data.response_avg_ms,
             "response_p95_ms": data.response_p95_ms, "requests": data.requests})


def _process(session: Session, actor: Actor, data: ProcessIn,
             lookups: Lookups) -> tuple[dict[str, Any], dict[str, Any]]:
    tz = get_settings().tz
    started = as_utc(data.started_at, tz)
    finished = as_utc(data.finished_at, tz) if data.finished_at else None
    if finished is not None and finished < started:
        raise Invalid("finished before it started", field="finished_at")
    org = _org(session, actor, data.org, lookups)
    return ({"process_type": data.process_type, "record_id": data.record_id},
            {"org_id": org.id, "started_at": started, "finished_at": finished,
             "finish_date": finished.astimezone(tz).date() if finished else None,
             "duration_s": _seconds(finished, started) if finished else None})


def _usage(session: Session, actor: Actor, data: UsageIn,
           lookups: Lookups) -> tuple[dict[str, Any], dict[str, Any]]:
    figures = {name: getattr(data, name) for name in (
        "app_mau", "self_service_txns", "counter_txns", "assistant_sessions",
        "assistant_resolved")}
    if all(value is None for value in figures.values()):
        raise Invalid("no figure: give at least one of " + ", ".join(figures), field="app_mau")
    if data.assistant_resolved is not None and (
            data.assistant_sessions is None or data.assistant_resolved > data.assistant_sessions):
        raise Invalid("more sessions resolved than the assistant had",
                      field="assistant_resolved")
    org = _org(session, actor, data.org, lookups)
    return {"org_id": org.id, "month": data.month}, figures


Resolver = Callable[[Session, Actor, Any, Lookups], tuple[dict[str, Any], dict[str, Any]]]
TABLES: dict[Kind, tuple[Any, Resolver]] = {
    "queue": (QueueTicket, _queue), "channel": (ChannelDay, _channel),
    "process": (ProcessRecord, _process), "usage": (DigitalUsage, _usage),
}

Stored = Literal["accepted", "updated", "unchanged"]


def store(session: Session, *, actor: Actor, kind: Kind, data: _Row,
          lookups: Lookups | None = None) -> Stored:
    """Store one record once per natural key: "accepted" when new, "updated" when the stored
    one differs, "unchanged" when it is the same again."""
    actor.require(PERMISSION)
    model, resolver = TABLES[kind]
    key, columns = resolver(session, actor, data, lookups if lookups is not None else Lookups())
    now = utcnow()
    if insert_new(session, model, [{**key, **columns, "created_at": now, "updated_at": now}],
                  list(key)):
        return "accepted"
    stored: Any = session.scalars(select(model).filter_by(**key)).one()
    stored_org = session.get(Org, stored.org_id)
    if stored_org is None or not org_service.org_visible(actor, stored_org):
        raise Invalid("this record is stored for an org outside your scope",
                      field=next(iter(key)))
    if all(getattr(stored, name) == value for name, value in columns.items()):
        return "unchanged"
    for name, value in columns.items():
        setattr(stored, name, value)
    stored.updated_at = now
    session.flush()
    return "updated"


def import_rows(session: Session, *, actor: Actor, kind: Kind,
                rows: Iterable[tuple[int, dict[str, Any], str | None]],
                on_reject: OnReject) -> ImportCounts:
    """Store every good row of a file (row number, values, read error) and tell `on_reject`
    why each other one was refused; each row in a savepoint of its own."""
    actor.require(PERMISSION)
    if kind not in MODELS:
        raise Invalid(f"{kind!r} is not a kind of service data (kinds: {', '.join(KINDS)})",
                      field="kind")
    counts = ImportCounts()
    lookups = Lookups()
    for number, values, error in rows:
        if error is not None:
            counts.rejected += 1
            on_reject(number, "row", error)
            continue
        try:
            data = parse(kind, values)
            with session.begin_nested():
                outcome = store(session, actor=actor, kind=kind, data=data, lookups=lookups)
        except BankvocError as exc:
            counts.rejected += 1
            on_reject(number, exc.field, exc.message)
            continue
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts
