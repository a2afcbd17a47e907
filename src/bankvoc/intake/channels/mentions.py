"""Social-media mentions: every post about the bank is kept (masked) for monitoring; the ones
that are complaints also become cases.

The rule (`complaint_rule`), offline and explainable like the rest of text understanding:

1. Complaint words. The taxonomy's words for a complaint or a complaint intent (投诉, 维权,
   曝光, 要求赔偿, 讨个说法, 再不处理, 向监管反映, complain, compensation …) are in the post,
   and the post is not positive (sentiment polarity below 0.2, so "投诉处理得很及时，点赞" is
   praise, not a complaint); or
2. an unhappy customer about a banking matter. The post is clearly negative (polarity at or
   below -0.3) and the classifier places it in a product or a nature of complaint other than
   "other" with confidence 0.5 or more (年费乱扣 → credit card / fees; 转账一直失败 → digital
   banking).

Everything else stays a monitored mention: news, praise, questions, moods about nothing the
bank does. The reason (which part fired, the words behind it) is stored with the mention, and
a case made from one says "complaint intent" when the words were of an intent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.cases.models import Case
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import as_utc
from bankvoc.customers import service as customer_service
from bankvoc.intake.channels.models import MonitoredMention
from bankvoc.intake.channels.schemas import ChannelMessageIn
from bankvoc.intake.channels.service import (
    WEBHOOK_FIELD_NAMES,
    InboundMessage,
    Receipt,
    check_not_future,
    from_webhook,
    register_inbound,
)
from bankvoc.nlp import service as nlp_service
from bankvoc.nlp.keywords import KeywordClassifier
from bankvoc.nlp.pipeline import Analysis
from bankvoc.nlp.taxonomy import Taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor

SOURCE_SYSTEM = "social"
CASE_CHANNEL = Channel.third_party
NOT_POSITIVE = 0.2
NEGATIVE = -0.3
MIN_CONFIDENCE = 0.5
COMPLAINT_KINDS = frozenset({CaseKind.complaint.value, CaseKind.complaint_intent.value})


@dataclass(frozen=True)
class Verdict:
    is_complaint: bool
    kind: CaseKind
    reason: str


_kind_classifiers: dict[int, tuple[Taxonomy, KeywordClassifier]] = {}


def _kinds(taxonomy: Taxonomy) -> KeywordClassifier:
    """The taxonomy's kind words as a classifier, compiled once per loaded taxonomy."""
    if id(taxonomy) not in _kind_classifiers:
        _kind_classifiers[id(taxonomy)] = (taxonomy, KeywordClassifier({"kind": taxonomy.kinds}))
    return _kind_classifiers[id(taxonomy)][1]


def complaint_rule(text: str, analysis: Analysis, taxonomy: Taxonomy) -> Verdict:
    """Is this post a complaint? See the module's docstring for the rule."""
    kind = _kinds(taxonomy).predict(text)["kind"]
    mood = f"sentiment {analysis.sentiment:+.2f}"
    if kind.code in COMPLAINT_KINDS and analysis.sentiment < NOT_POSITIVE:
        return Verdict(True, CaseKind(kind.code),
                       f"complaint words: {', '.join(kind.words)}; {mood}"[:300])
    subjects = [(name, value, confidence, analysis.explanation.get(name, []))
                for name, value, confidence in (
                    ("product", analysis.product, analysis.product_confidence),
                    ("category", analysis.category, analysis.category_confidence))
                if value != "other" and confidence >= MIN_CONFIDENCE]
    if analysis.sentiment <= NEGATIVE and subjects:
        about = "; ".join(f"{name} {value} ({confidence:.2f}: {', '.join(words)})"
                          for name, value, confidence, words in subjects)
        return Verdict(True, CaseKind.complaint, f"negative, about {about}; {mood}"[:300])
    why = [mood]
    if kind.code in COMPLAINT_KINDS:
        why.append(f"complaint words ({', '.join(kind.words)}) but not negative")
    elif kind.code != "other":
        why.append(f"reads as {kind.code} ({', '.join(kind.words)})")
    if not subjects:
        why.append("no banking product or matter recognised")
    elif analysis.sentiment > NEGATIVE:
        why.append("not negative enough")
    return Verdict(False, CaseKind.complaint, "not a complaint: " + "; ".join(why)[:280])


def _mask_author(author: str) -> str:
    return author[:1] + "***"


def record_mention(
    session: Session,
    *,
    actor: Actor,
    message: ChannelMessageIn,
) -> tuple[MonitoredMention, Receipt | None, bool]:
    """Keep the post as a mention and, when it is a complaint, register its case.

    Returns (mention, the case's receipt or None, whether the mention is new). A post sent
    again is found by its id and changes nothing.
    """
    actor.require("case.create")
    known = session.scalar(select(MonitoredMention).where(
        MonitoredMention.source_id == message.id))
    if known is not None:
        return known, None, False
    check_not_future(message.sent_at, field_name="sent_at")
    analyzer = nlp_service.analyzer(session, actor=actor)
    analysis = analyzer.analyze(message.text)
    verdict = complaint_rule(message.text, analysis, analyzer.taxonomy)
    received_at = as_utc(message.sent_at, get_settings().tz)
    mention = MonitoredMention(
        channel=SOURCE_SYSTEM, source_id=message.id, url=message.url,
        text_masked=analysis.masked_text, sentiment=analysis.sentiment,
        is_complaint=verdict.is_complaint, reason=verdict.reason, received_at=received_at)
    if message.author:
        mention.author = _mask_author(message.author)
        mention.author_enc = customer_service.current_keyring().encrypt(
            message.author, field="social_author")
    session.add(mention)
    session.flush()
    receipt = None
    if verdict.is_complaint:
        receipt = register_inbound(session, actor=actor, message=_as_case(message, verdict,
                                                                          mention),
                                   field_names=WEBHOOK_FIELD_NAMES)
        mention.case_id = receipt.case_id
        session.flush()
    return mention, receipt, True


def _as_case(message: ChannelMessageIn, verdict: Verdict,
             mention: MonitoredMention) -> InboundMessage:
    note: dict[str, Any] = {"note": "a monitored social-media mention judged a complaint",
                            "mention_id": mention.id, "reason": verdict.reason}
    if message.url:
        note["url"] = message.url
    return from_webhook(message, channel=CASE_CHANNEL, source_system=SOURCE_SYSTEM,
                        kind=verdict.kind, notes=[note])


@dataclass(frozen=True)
class MentionRow:
    mention: MonitoredMention
    reference: str | None


MAX_PAGE = 200


def list_mentions(
    session: Session,
    *,
    actor: Actor,
    owner_org_id: int,
    is_complaint: bool | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[MentionRow]:
    """Newest mentions first. Mentions belong to the org of the channel user (`owner_org_id`):
    only users whose scope holds that org see them."""
    actor.require("case.read")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}", field="limit")
    owner = org_service.get_org_by_id(session, org_id=owner_org_id)
    if not org_service.org_visible(actor, owner):
        return []
    stmt = (select(MonitoredMention, Case.reference)
            .outerjoin(Case, Case.id == MonitoredMention.case_id)
            .order_by(MonitoredMention.id.desc()).limit(limit))
    if is_complaint is not None:
        stmt = stmt.where(MonitoredMention.is_complaint.is_(is_complaint))
    if before_id is not None:
        stmt = stmt.where(MonitoredMention.id < before_id)
    return [MentionRow(mention, reference) for mention, reference in session.execute(stmt)]


def reference_of(session: Session, *, case_id: int) -> str | None:
    return session.scalar(select(Case.reference).where(Case.id == case_id))
