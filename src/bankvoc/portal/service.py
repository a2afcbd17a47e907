"""The customer's own page: filing a complaint or suggestion, asking for a one-time code with
the reference and phone, checking it, and the short session that shows that one case.

Filing goes through the intake pipeline like every channel (channel `web`, source system
`portal`, registered as the channel user, BANKVOC_CHANNEL_USER): validated, PII-protected,
classified, graded, routed and given its SLA clocks; the customer's acknowledgement and every
code leave through the notification outbox with the change. The consent to the processing of
personal data (PIPL arts. 13-14; sensitive data such as account numbers, art. 29) is recorded on
the case's timeline with the version of the notice the customer saw.

Following a case reveals nothing: a request for a code is answered alike whether the reference
and phone match or not (a challenge is stored either way; only a matching one has a case and
sends a code), and every code of a non-matching challenge is simply wrong. Codes are six
digits, kept as an HMAC bound to their challenge, live BANKVOC_PORTAL_CODE_MINUTES, allow
BANKVOC_PORTAL_CODE_ATTEMPTS tries and are used once; a newer request for the same case
retires the older code. The code is in the outbox row's text until it is sent (it is short-
lived and single use; the row belongs to the case and goes with it at the retention purge).

Functions take the session first, flush and never commit. A wrong code is an answer
(`CodeCheck`), not an exception, so the caller commits the counted attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bankvoc.cases import retention
from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.cases.events import append_event
from bankvoc.cases.models import Case
from bankvoc.core.i18n import t
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import masking
from bankvoc.customers import service as customer_service
from bankvoc.intake import parsing
from bankvoc.intake import service as intake_service
from bankvoc.intake.channels import service as channel_service
from bankvoc.intake.draft import Outcome
from bankvoc.intake.schemas import CaseCreate
from bankvoc.nlp import pii
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.notify import service as notify
from bankvoc.notify.service import Recipient
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.portal import evidence, limits
from bankvoc.portal.errors import PortalInvalid, PortalSessionEnded
from bankvoc.portal.evidence import Upload
from bankvoc.portal.models import PortalChallenge, PortalSession

SOURCE_SYSTEM = "portal"
KINDS = (CaseKind.complaint.value, CaseKind.suggestion.value)
NAME_MAX = 50
TEXT_MIN = 10
TEXT_MAX = 3000
SUPPLEMENT_MAX = 2000
AMOUNT_MAX = Decimal("1e15")
# The version of the personal-data notice the consent box refers to: change it with the text.
CONSENT_NOTICE = "portal-privacy-2026.11"
CONSENT_EVENT = "portal_consent"
SUPPLEMENT_EVENT = "customer_supplement"
REFERENCE = re.compile(r"^[A-Z]{2}\d{14}$")
CODE = re.compile(r"^\d{6}$")
SESSION_PREFIX = "bvp_"
# An org the customer may name: outlets and the branches above them, not departments.
PUBLIC_ORG_KINDS = frozenset({OrgKind.head_office, OrgKind.branch, OrgKind.sub_branch,
                              OrgKind.outlet, OrgKind.centre})
_SUBMISSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _digest(purpose: str, value: str) -> str:
    secret = get_settings().effective_secret_key.encode()
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- what the customer may choose ---------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    code: str
    zh: str
    en: str
    depth: int = 0

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def org_choices(session: Session) -> list[Choice]:
    """The active branches, sub-branches and outlets a complaint may be about (within the
    channel user's scope, which intake requires), in tree order."""
    actor = channel_service.channel_actor(session)
    rows = session.scalars(select(Org).where(
        Org.active.is_(True), Org.kind.in_([k.value for k in PUBLIC_ORG_KINDS]),
        Org.path.startswith(actor.org_path, autoescape=True)).order_by(Org.path))
    base = actor.org_path.count("/")
    return [Choice(o.code, o.name, o.name_en or o.name, max(o.path.count("/") - base - 1, 0))
            for o in rows]


def product_choices() -> list[Choice]:
    return [Choice(p.code, p.zh, p.en) for p in load_taxonomy().products]


# --- filing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filing:
    """A checked filing form."""

    kind: str
    name: str
    phone: str
    text: str
    submission: str
    email: str | None = None
    org: str | None = None
    product: str | None = None
    amount: Decimal | None = None


def new_submission() -> str:
    """The id a filing form carries, so that the same form sent twice files one case."""
    return secrets.token_urlsafe(18)


def _phone(value: str, field: str, problems: list[PortalInvalid]) -> str:
    phone = masking.normalise_phone(value)
    if not value.strip():
        problems.append(PortalInvalid(field, "required"))
    elif not masking.valid_mobile(phone):
        problems.append(PortalInvalid(field, "mobile"))
    return phone


def _amount(value: str, problems: list[PortalInvalid]) -> Decimal | None:
    if not value:
        return None
    try:
        amount = parsing.parse_amount(value)
    except parsing.ParseError:
        problems.append(PortalInvalid("amount", "amount"))
        return None
    if amount < 0 or amount >= AMOUNT_MAX or amount != amount.quantize(Decimal("0.01")):
        problems.append(PortalInvalid("amount", "amount"))
        return None
    return amount


def _text(value: str, field: str, problems: list[PortalInvalid], *, minimum: int,
          maximum: int) -> str:
    if not value:
        problems.append(PortalInvalid(field, "required"))
    elif len(value) < minimum:
        problems.append(PortalInvalid(field, "too_short", min=minimum))
    elif len(value) > maximum:
        problems.append(PortalInvalid(field, "too_long", max=maximum, n=len(value)))
    return value


def text_max() -> int:
    return min(TEXT_MAX, get_settings().text_max_chars)


def read_filing(session: Session, *, values: Mapping[str, str],
                uploads: list[Upload]) -> tuple[Filing | None, list[PortalInvalid]]:
    """The filing form checked: a `Filing`, or every problem, each naming its field (in the
    form's order)."""
    problems: list[PortalInvalid] = []
    value = {k: v.strip() for k, v in values.items()}
    kind = value.get("kind", "")
    if kind not in KINDS:
        problems.append(PortalInvalid("kind", "choice"))
    name = value.get("name", "")
    if not name:
        problems.append(PortalInvalid("name", "required"))
    elif len(name) > NAME_MAX:
        problems.append(PortalInvalid("name", "too_long", max=NAME_MAX, n=len(name)))
    phone = _phone(value.get("phone", ""), "phone", problems)
    email = value.get("email") or None
    if email is not None:
        try:
            email = masking.clean_email(email)
        except ValueError:
            problems.append(PortalInvalid("email", "email"))
    org = value.get("org") or None
    if org is not None and org not in {c.code for c in org_choices(session)}:
        problems.append(PortalInvalid("org", "choice"))
    product = value.get("product") or None
    if product is not None and product not in {c.code for c in product_choices()}:
        problems.append(PortalInvalid("product", "choice"))
    amount = _amount(value.get("amount", ""), problems)
    text = _text(value.get("text", ""), "text", problems, minimum=TEXT_MIN, maximum=text_max())
    problems += evidence.check(uploads)
    if value.get("consent") != "yes":
        problems.append(PortalInvalid("consent", "consent"))
    if problems:
        return None, problems
    submission = value.get("submission", "")
    return Filing(kind=kind, name=name, phone=phone, text=text, email=email, org=org,
                  product=product, amount=amount,
                  submission=submission if _SUBMISSION.match(submission)
                  else new_submission()), []


@dataclass(frozen=True)
class Filed:
    reference: str
    # accepted (a new case) | merged (joined the customer's case of the same matter) |
    # unchanged (this form was sent before).
    outcome: str
    files: int


def _source_id(filing: Filing) -> str:
    """The form's id and what it said: the same form sent twice is one case, a form changed
    after the browser's back button is another."""
    content = "|".join([filing.kind, filing.name, filing.phone, filing.email or "",
                        filing.org or "", filing.product or "", str(filing.amount or ""),
                        filing.text])
    return f"{filing.submission}:{hashlib.sha256(content.encode()).hexdigest()[:32]}"


def file_case(session: Session, *, filing: Filing, uploads: list[Upload],
              client_ip: str | None, language: str, now: datetime | None = None) -> Filed:
    """Register the filing as a case through intake, keep its evidence and the consent, and
    queue the acknowledgement; `RateLimited` past BANKVOC_PORTAL_FILINGS_PER_HOUR per address."""
    now = now or utcnow()
    limits.hit(session, action=limits.FILING, now=now, limits=[
        (limits.ip_key(client_ip), get_settings().portal_filings_per_hour)])
    actor = channel_service.channel_actor(session)
    try:
        data = CaseCreate(
            text=filing.text, kind=CaseKind(filing.kind), channel=Channel.web,
            customer_name=filing.name, customer_phone=filing.phone,
            customer_email=filing.email, amount=filing.amount, org=filing.org,
            product=filing.product, source_system=SOURCE_SYSTEM,
            source_id=_source_id(filing))
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "text"
        raise PortalInvalid(_FORM_FIELDS.get(field, "text"), "rejected") from None
    draft = intake_service.register_case(session, actor=actor, data=data)
    if draft.rejected or draft.case_id is None:
        raise PortalInvalid(_FORM_FIELDS.get(draft.error_field or "", "text"), "rejected")
    case = session.get_one(Case, draft.case_id)
    if draft.outcome == Outcome.UNCHANGED:
        return Filed(case.reference, draft.outcome, 0)
    files = evidence.store(session, actor=actor, case=case, uploads=uploads)
    append_event(session, case=case, type=CONSENT_EVENT, actor_user_id=None, at=now,
                 data={"notice": CONSENT_NOTICE, "files": files})
    _acknowledge(session, case=case, filing=filing, language=language)
    return Filed(case.reference, draft.outcome, files)


# The case's field names, as the form calls them.
_FORM_FIELDS = {"text": "text", "kind": "kind", "customer_name": "name",
                "customer_phone": "phone", "customer_email": "email", "amount": "amount",
                "org": "org", "product": "product"}


def _acknowledge(session: Session, *, case: Case, filing: Filing, language: str) -> None:
    """The reference by SMS, and by e-mail when an address was given (once per case)."""
    kind = t(f"kind.{case.kind}", language)
    context: dict[str, object] = {
        "reference": case.reference, "received_at": case.received_at,
        "kind": kind.lower() if language == "en" else kind, "customer_name": filing.name}
    if case.due_at is not None:
        context["due_date"] = case.due_at
    targets = [("sms", filing.phone)] + ([("email", filing.email)] if filing.email else [])
    for channel, address in targets:
        notify.enqueue(session, template="portal_received", channel=channel,
                       recipient=Recipient.customer(address, ref=case.customer_id),
                       language=language, context=context, case_id=case.id,
                       dedupe_key=f"portal:{case.id}:received:{channel}")


def filed_proof(reference: str) -> str:
    """What the filing browser keeps to see its confirmation page again: the reference,
    signed (nobody else's browser can show that page for a reference it guessed)."""
    return f"{reference}.{_digest('filed', reference)[:32]}"


def filed_reference(proof: str | None) -> str | None:
    reference, _, signature = (proof or "").partition(".")
    expected = _digest("filed", reference)[:32]
    return reference if signature and hmac.compare_digest(signature, expected) else None


@dataclass(frozen=True)
class Receipt:
    """What the confirmation page shows the browser that filed the case."""

    reference: str
    kind: str
    received_at: datetime
    due_at: datetime | None


def receipt(session: Session, *, reference: str) -> Receipt | None:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        return None
    return Receipt(case.reference, case.kind, case.received_at, case.due_at)


# --- following a case: the code -----------------------------------------------------------------

def read_tracking(values: Mapping[str, str]) -> tuple[tuple[str, str, str] | None,
                                                      list[PortalInvalid]]:
    """(reference, phone, via) from the tracking form, or what is wrong with it."""
    problems: list[PortalInvalid] = []
    reference = re.sub(r"\s", "", values.get("reference", "")).upper()
    if not reference:
        problems.append(PortalInvalid("reference", "required"))
    elif not REFERENCE.match(reference):
        problems.append(PortalInvalid("reference", "reference"))
    phone = _phone(values.get("phone", ""), "phone", problems)
    via = values.get("via") or "sms"
    if via not in ("sms", "email"):
        problems.append(PortalInvalid("via", "choice"))
    return (None if problems else (reference, phone, via)), problems


def _matching_case(session: Session, *, reference: str, phone: str) -> Case | None:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.customer is None or not case.customer.phone_bidx:
        return None
    if retention.is_anonymised(case):
        return None
    indexes = customer_service.current_keyring().blind_indexes(phone, field="phone")
    return case if case.customer.phone_bidx in indexes else None


def _code_hash(token: str, code: str) -> str:
    return _digest("portal-code", f"{_hash_token(token)}:{code}")


def request_code(session: Session, *, reference: str, phone: str, via: str,
                 client_ip: str | None, language: str, now: datetime | None = None) -> str:
    """Ask for a code to follow `reference`; returns the challenge's token (for the browser).

    Counted per client address and per reference and phone (`RateLimited` past the limits),
    matching or not. Only when the phone is the case's customer's does a code leave: by SMS to
    that phone, or by e-mail (`via`) when the customer gave an address."""
    settings = get_settings()
    now = now or utcnow()
    per_case = settings.portal_code_requests_per_case_per_hour
    limits.hit(session, action=limits.CODE_REQUEST, now=now, limits=[
        (limits.ip_key(client_ip), settings.portal_code_requests_per_hour),
        (limits.key("reference", reference), per_case), (limits.key("phone", phone), per_case)])
    case = _matching_case(session, reference=reference, phone=phone)
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = PortalChallenge(
        token_hash=_hash_token(token), case_id=case.id if case else None,
        code_hash=_code_hash(token, code), attempts=0, created_at=now,
        expires_at=now + timedelta(minutes=settings.portal_code_minutes))
    if case is not None:
        session.execute(update(PortalChallenge)
                        .where(PortalChallenge.case_id == case.id,
                               PortalChallenge.used_at.is_(None))
                        .values(used_at=now).execution_options(synchronize_session=False))
        challenge.channel = _send_code(session, case=case, phone=phone, via=via, code=code,
                                       language=language, token=token)
    session.add(challenge)
    session.flush()
    return token


def _send_code(session: Session, *, case: Case, phone: str, via: str, code: str,
               language: str, token: str) -> str:
    customer = case.customer
    assert customer is not None
    channel, address = "sms", phone
    if via == "email" and customer.email_enc:
        channel = "email"
        address = customer_service.current_keyring().decrypt(
            customer.email_enc, field=customer_service.EMAIL_FIELD)
    notify.enqueue(session, template="portal_code", channel=channel,
                   recipient=Recipient.customer(address, ref=customer.id), language=language,
                   context={"reference": case.reference, "code": code,
                            "minutes": get_settings().portal_code_minutes},
                   case_id=case.id, dedupe_key=f"portal-code:{_hash_token(token)[:40]}")
    return channel


@dataclass(frozen=True)
class CodeCheck:
    """What a code entered came to: a session token when right; else why not (wrong, with
    tries left; expired, also for a code asked for again since or never sent; attempts)."""

    ok: bool
    reason: str = ""
    attempts_left: int = 0
    session_token: str | None = None


def check_code(session: Session, *, token: str | None, code: str, client_ip: str | None,
               now: datetime | None = None) -> CodeCheck:
    """Check a code against the browser's challenge. `PortalInvalid` for a code that is not six
    digits (no try counted); `RateLimited` once the address has had too many wrong codes."""
    settings = get_settings()
    now = now or utcnow()
    code = re.sub(r"\s", "", code)
    if not CODE.match(code):
        raise PortalInvalid("code", "code" if code else "required")
    address = limits.ip_key(client_ip)
    limits.check(session, action=limits.CODE_FAILURE, now=now,
                 limits=[(address, settings.portal_code_failures_per_hour)])
    challenge = session.scalar(
        select(PortalChallenge).where(PortalChallenge.token_hash == _hash_token(token or ""))
        .with_for_update()) if token else None
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
        return CodeCheck(False, "expired")
    allowed = settings.portal_code_attempts
    if challenge.attempts >= allowed:
        return CodeCheck(False, "attempts")
    challenge.attempts += 1
    left = allowed - challenge.attempts
    assert token is not None
    if challenge.case_id is None or not hmac.compare_digest(challenge.code_hash,
                                                            _code_hash(token, code)):
        limits.record(session, action=limits.CODE_FAILURE, keys=[address], now=now)
        return CodeCheck(False, "wrong" if left else "attempts", left)
    challenge.used_at = now
    return CodeCheck(True, attempts_left=left,
                     session_token=open_session(session, case_id=challenge.case_id, now=now))


# --- the customer's session ---------------------------------------------------------------------

def open_session(session: Session, *, case_id: int, now: datetime | None = None) -> str:
    now = now or utcnow()
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    session.add(PortalSession(
        token_hash=_hash_token(token), case_id=case_id, created_at=now,
        expires_at=now + timedelta(minutes=get_settings().portal_session_minutes)))
    session.flush()
    return token


def resolve_session(session: Session, *, token: str | None,
                    now: datetime | None = None) -> PortalSession:
    """The live session of a cookie's token; `PortalSessionEnded` otherwise."""
    now = now or utcnow()
    row = session.scalar(select(PortalSession).where(
        PortalSession.token_hash == _hash_token(token))
        .execution_options(populate_existing=True)) if token else None
    if row is None or row.ended_at is not None or row.expires_at <= now:
        raise PortalSessionEnded("the session has ended: ask for a new code", field="session")
    return row


def end_session(session: Session, *, token: str | None, now: datetime | None = None) -> None:
    if not token:
        return
    session.execute(update(PortalSession)
                    .where(PortalSession.token_hash == _hash_token(token),
                           PortalSession.ended_at.is_(None))
                    .values(ended_at=now or utcnow())
                    .execution_options(synchronize_session=False))


# --- the customer's supplement ------------------------------------------------------------------

def read_supplement(values: Mapping[str, str],
                    uploads: list[Upload]) -> tuple[str, list[PortalInvalid]]:
    problems: list[PortalInvalid] = []
    text = _text(values.get("text", "").strip(), "text", problems, minimum=1,
                 maximum=SUPPLEMENT_MAX)
    return text, problems + evidence.check(uploads)


def add_supplement(session: Session, *, portal_session: PortalSession, text: str,
                   uploads: list[Upload], now: datetime | None = None) -> int:
    """The customer's further words and files on their case: the files as evidence, the words
    (masked, as every text on the timeline) in a customer event. Returns the files added;
    `RateLimited` past BANKVOC_PORTAL_SUPPLEMENTS_PER_HOUR for the case."""
    now = now or utcnow()
    case = session.get_one(Case, portal_session.case_id)
    if not accepts_supplements(case):
        raise PortalInvalid("text", "closed")
    limits.hit(session, action=limits.SUPPLEMENT, now=now, limits=[
        (limits.key("case", str(case.id)), get_settings().portal_supplements_per_hour)])
    actor = channel_service.channel_actor(session)
    files = evidence.store(session, actor=actor, case=case, uploads=uploads)
    append_event(session, case=case, type=SUPPLEMENT_EVENT, actor_user_id=None, at=now,
                 data={"text": pii.mask_text(text), "files": files})
    return files


def accepts_supplements(case: Case) -> bool:
    """A case merged into another, withdrawn or anonymised takes no more words."""
    return case.status not in ("merged", "withdrawn") and not retention.is_anonymised(case)
