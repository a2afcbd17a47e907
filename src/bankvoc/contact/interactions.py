"""Interaction records from the ACD or chat platform, imported row by row. Never commits.

A row is one call or chat: `source_id` (or `id`), `kind` (call|chat), `agent`, `team`, `queue`,
`org` (an org code; else the agent's org), `started_at` (local time of the bank when it carries
no zone), `routed_to_agent`, `answered`, `abandoned`, `transferred`, `wait_s`, `talk_s`,
`hold_s`, `wrap_s`, `outcome`, `phone` (the caller's: only used to find or record the customer
through the blind index, never stored here), `issue_key` (else `product`/`category`), `csat`
(1-5) and `case` (a case reference). Chinese headers are understood too (`HEADERS`); columns
the platform adds of its own are ignored.

A record may carry its transcript, as the speech recognition or chat platform writes it
(`contact/schemas.py`): `turns` (a list, or its JSON text in a CSV cell), with `product` and
`follow_up`. Such a record needs no `answered` (a call with a transcript was answered); its
transcript is stored and inspected with the rule set in force in the row's savepoint
(`contact.reviews`), so every interaction with a transcript is inspected; a complaint intent
the customer voices becomes a case linked to the call (`contact.complaints`).

Each row is stored once per (source system, source id): a resend of the same record changes
nothing, a corrected one updates the stored row (a corrected transcript is inspected again;
a row naming no case keeps the case linked to the call). A
row that cannot be stored is refused with its field and reason, and the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.contact import complaints, reviews
from bankvoc.contact.models import Interaction
from bankvoc.contact.rules import RuleSet, load_ruleset
from bankvoc.contact.schemas import Turn
from bankvoc.core.db import insert_new
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.rowimport import ImportCounts, OnReject
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import as_utc, utcnow
from bankvoc.customers import service as customers_service
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor

# Headers of the bank's ACD and chat exports, by field.
HEADERS = {
    "编号": "source_id", "通话编号": "source_id", "会话编号": "source_id", "id": "source_id",
    "类型": "kind", "坐席": "agent", "坐席工号": "agent", "班组": "team", "队列": "queue",
    "技能组": "queue", "机构": "org", "机构代码": "org", "开始时间": "started_at",
    "转人工": "routed_to_agent", "接通": "answered", "人工接通": "answered", "放弃": "abandoned",
    "转接": "transferred", "等待时长": "wait_s", "通话时长": "talk_s", "保持时长": "hold_s",
    "话后时长": "wrap_s", "结果": "outcome", "处理结果": "outcome", "来电号码": "phone",
    "电话": "phone", "问题": "issue_key", "产品": "product", "类别": "category",
    "满意度": "csat", "工单编号": "case",
}
_YES = {"是", "y", "yes", "true", "1", "t"}
_NO = {"否", "n", "no", "false", "0", "f"}
_KINDS = {"电话": "call", "来电": "call", "语音": "call", "在线": "chat", "文字": "chat"}

# What a row sets: the columns compared to tell an unchanged resend from a correction.
_COMPARED = ("kind", "agent", "agent_user_id", "team", "queue", "org_id", "started_at",
             "routed_to_agent", "answered", "abandoned", "transferred", "wait_s", "talk_s",
             "hold_s", "wrap_s", "outcome", "customer_id", "issue_key", "csat", "case_id")


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
    return value


class InteractionIn(BaseModel):
    """One interaction record as a file row gives it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source_system: str = Field(min_length=1, max_length=64)
    source_id: str = Field(min_length=1, max_length=128)
    kind: Literal["call", "chat"] = "call"
    agent: str | None = Field(default=None, max_length=64)
    team: str | None = Field(default=None, max_length=64)
    queue: str | None = Field(default=None, max_length=64)
    org: str | None = Field(default=None, max_length=32, description="Org code")
    started_at: datetime
    routed_to_agent: bool = True
    answered: bool
    abandoned: bool = False
    transferred: bool = False
    wait_s: int = Field(default=0, ge=0)
    talk_s: int = Field(default=0, ge=0)
    hold_s: int = Field(default=0, ge=0)
    wrap_s: int = Field(default=0, ge=0)
    outcome: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=40)
    issue_key: str | None = Field(default=None, max_length=120)
    product: str | None = Field(default=None, max_length=60)
    category: str | None = Field(default=None, max_length=60)
    csat: int | None = Field(default=None, ge=1, le=5)
    case: str | None = Field(default=None, max_length=24, description="Case reference")
    turns: tuple[Turn, ...] | None = Field(default=None, min_length=1)
    follow_up: str | None = Field(default=None, max_length=64)

    @model_validator(mode="before")
    @classmethod
    def _transcript(cls, data: Any) -> Any:
        """A transcript given as JSON text (a CSV cell) is read; a record with one was
        answered unless it says otherwise."""
        if isinstance(data, dict) and isinstance(data.get("turns"), str):
            try:
                data = {**data, "turns": orjson.loads(data["turns"])}
            except orjson.JSONDecodeError:
                raise _FieldError("turns", "not a JSON list of turns") from None
        if isinstance(data, dict) and data.get("turns") and "answered" not in data:
            data = {**data, "answered": True}
        return data

    @field_validator("source_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value  # a spreadsheet's number

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return _KINDS.get(text, text.lower())
        return value

    @field_validator("routed_to_agent", "answered", "abandoned", "transferred", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return _yes_no(value)

    @field_validator("wait_s", "talk_s", "hold_s", "wrap_s", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        # Exports write "12.0" for a whole number of seconds; a fraction is rounded.
        if isinstance(value, str):
            try:
                return round(float(value.strip()))
            except ValueError:
                return value
        return round(value) if isinstance(value, float) else value

    @model_validator(mode="after")
    def _consistent(self) -> InteractionIn:
        if self.answered and not self.routed_to_agent:
            raise _FieldError("answered", "answered by a person but not routed to one")
        if self.abandoned and self.answered:
            raise _FieldError("abandoned", "an interaction is not both answered and abandoned")
        if self.abandoned and not self.routed_to_agent:
            raise _FieldError("abandoned", "abandoned while not routed to a person")
        return self

    def transcript(self) -> reviews.TranscriptIn | None:
        """What the inspection reads, when the record carries a transcript (a case linked to
        the call is a follow-up recorded for it)."""
        if not self.turns:
            return None
        return reviews.TranscriptIn(turns=self.turns, product=self.product,
                                    follow_up=self.follow_up or self.case)

    def issue(self) -> str | None:
        """What a repeat contact is about: the issue key, else product/category."""
        if self.issue_key:
            return self.issue_key
        parts = [p for p in (self.product, self.category) if p]
        return "/".join(parts) or None


class _FieldError(ValueError):
    """A rule across fields, blamed on one of them."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field_name = field_name


def record_of(values: dict[str, Any], *, source_system: str) -> dict[str, Any]:
    """A file row's values keyed by field (Chinese headers translated, blanks left out)."""
    record: dict[str, Any] = {"source_system": source_system}
    for header, value in values.items():
        name = HEADERS.get(str(header).strip(), str(header).strip().lower())
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        record[name] = value
    return record


def parse(values: dict[str, Any], *, source_system: str) -> InteractionIn:
    """The interaction of a row, or Invalid naming the (first) field that is wrong."""
    try:
        return InteractionIn.model_validate(record_of(values, source_system=source_system))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, _FieldError):
            raise Invalid(str(cause), field=cause.field_name) from None
        where = ".".join(str(p) for p in error["loc"]) or "row"
        raise Invalid(str(error["msg"]).removeprefix("Value error, "), field=where) from None


@dataclass
class Lookups:
    """What one import looks up once: orgs by code, users by name, cases by reference, the
    rule set in force."""

    orgs: dict[str, Org] = field(default_factory=dict)
    users: dict[str, User | None] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    rules: RuleSet | None = None

    def ruleset(self) -> RuleSet:
        if self.rules is None:
            self.rules = load_ruleset()
        return self.rules


def _user(session: Session, name: str, lookups: Lookups) -> User | None:
    if name not in lookups.users:
        lookups.users[name] = session.scalar(select(User).where(User.username == name))
    return lookups.users[name]


def _org(session: Session, actor: Actor, data: InteractionIn, agent: User | None,
         lookups: Lookups) -> Org:
    if data.org:
        org = lookups.orgs.get(data.org)
        if org is None:
            org = org_service.get_org_by_code(session, code=data.org)
            lookups.orgs[data.org] = org
    elif agent is not None:
        org = agent.org
    else:
        raise Invalid("no org code, and the agent is not a known user to take it from",
                      field="org")
    if not org_service.org_visible(actor, org):
        raise Invalid(f"org {org.code!r} is outside your scope", field="org")
    return org


def _case_id(session: Session, actor: Actor, reference: str, lookups: Lookups) -> int:
    if reference not in lookups.cases:
        try:
            lookups.cases[reference] = cases_service.get_case(
                session, actor=actor, reference=reference).id
        except BankvocError as exc:
            raise Invalid(exc.message, field="case") from None
    return lookups.cases[reference]


def resolve(session: Session, *, actor: Actor, data: InteractionIn,
            lookups: Lookups | None = None) -> dict[str, Any]:
    """The stored columns of one interaction: org, agent, case and customer found (the
    customer by the phone's blind index, recorded first when new). Raises Invalid naming the
    field that cannot be resolved."""
    lookups = lookups if lookups is not None else Lookups()
    agent = _user(session, data.agent, lookups) if data.agent else None
    org = _org(session, actor, data, agent, lookups)
    case_id = _case_id(session, actor, data.case, lookups) if data.case else None
    customer_id = None
    if data.phone:  # last: the only step that may write
        customer_id = customers_service.find_or_create(session, name=None, phone=data.phone,
                                                       id_number=None)
    return {
        "kind": data.kind, "agent": data.agent,
        "agent_user_id": agent.id if agent is not None else None, "team": data.team,
        "queue": data.queue, "org_id": org.id,
        "started_at": as_utc(data.started_at, get_settings().tz),
        "routed_to_agent": data.routed_to_agent, "answered": data.answered,
        "abandoned": data.abandoned, "transferred": data.transferred, "wait_s": data.wait_s,
        "talk_s": data.talk_s, "hold_s": data.hold_s, "wrap_s": data.wrap_s,
        "outcome": data.outcome, "customer_id": customer_id, "issue_key": data.issue(),
        "csat": data.csat, "case_id": case_id,
    }


Stored = Literal["accepted", "updated", "unchanged"]


def store(session: Session, *, actor: Actor, data: InteractionIn,
          lookups: Lookups | None = None) -> Stored:
    """Store one interaction once per (source system, source id): "accepted" when new,
    "updated" when a stored one differs (its row or its transcript), "unchanged" when it is the
    same again. A transcript is stored and inspected with it."""
    actor.require("case.import")
    lookups = lookups if lookups is not None else Lookups()
    columns = resolve(session, actor=actor, data=data, lookups=lookups)
    key = {"source_system": data.source_system, "source_id": data.source_id}
    now = utcnow()
    outcome: Stored = "accepted"
    if not insert_new(session, Interaction, [{**key, **columns, "created_at": now,
                                              "updated_at": now}],
                      ["source_system", "source_id"]):
        outcome = "unchanged"
    stored = session.scalars(select(Interaction).where(
        Interaction.source_system == data.source_system,
        Interaction.source_id == data.source_id)).one()
    if outcome == "unchanged":
        stored_org = session.get(Org, stored.org_id)
        if stored_org is None or not org_service.org_visible(actor, stored_org):
            raise Invalid("this source id is stored for an org outside your scope",
                          field="source_id")
        if data.case is None:  # a row naming no case keeps the case linked to the call
            columns["case_id"] = stored.case_id
        if any(getattr(stored, name) != columns[name] for name in _COMPARED):
            for name in _COMPARED:
                setattr(stored, name, columns[name])
            stored.updated_at = now
            session.flush()
            outcome = "updated"
    transcript = data.transcript()
    if transcript is not None:
        done = reviews.record_transcript(session, actor=actor, interaction=stored,
                                         transcript=transcript, rules=lookups.ruleset(),
                                         now=now)
        if done != "unchanged":
            complaints.register(session, actor=actor, interaction=stored,
                                turns=transcript.turns, phone=data.phone)
            if outcome == "unchanged":
                outcome = "updated"
    return outcome


def import_rows(session: Session, *, actor: Actor,
                rows: Iterable[tuple[int, dict[str, Any], str | None]], source_system: str,
                on_reject: OnReject) -> ImportCounts:
    """Store every good row of a file (row number, values, read error) and tell `on_reject`
    why each other one was refused. Each row in a savepoint of its own: a refused row leaves
    the others as they are."""
    actor.require("case.import")
    counts = ImportCounts()
    lookups = Lookups()
    for number, values, error in rows:
        if error is not None:
            counts.rejected += 1
            on_reject(number, "row", error)
            continue
        try:
            data = parse(values, source_system=source_system)
            with session.begin_nested():
                outcome = store(session, actor=actor, data=data, lookups=lookups)
        except BankvocError as exc:
            counts.rejected += 1
            on_reject(number, exc.field, exc.message)
            continue
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts
