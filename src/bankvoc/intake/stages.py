"""The intake pipeline's stages: plain functions `stage(draft, ctx) -> draft`.

Each stage declares the draft fields it sets; its decisions carry value, confidence, reason and
`stage@version`. Stages that need the database declare a `prefetch` that loads what the whole
batch needs in a few queries, so a stage itself never queries row by row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, case, func, select

from bankvoc.cases.enums import OPEN_STATUSES, Channel
from bankvoc.cases.models import Case
from bankvoc.cases.workflow.config import pick_queue
from bankvoc.core.timeutil import as_utc
from bankvoc.customers import service as customer_service
from bankvoc.intake.context import IntakeContext, OpenCase, StageContext
from bankvoc.intake.draft import Annotation, Draft, Outcome
from bankvoc.intake.models import IntakeRecord
from bankvoc.intake.schemas import CaseCreate
from bankvoc.nlp import grading, keywords, pii, text
from bankvoc.nlp.pipeline import model_decisions
from bankvoc.nlp.similarity import template_key
from bankvoc.sla import service as sla_service

StageFn = Callable[[Draft, Any], Draft]
Prefetch = Callable[[list[Draft], IntakeContext], None]
Prepare = Callable[[list[Draft], StageContext], None]

# Received-at times a little ahead of our clock are accepted (clock skew between systems).
FUTURE_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class Stage:
    name: str
    version: int
    sets: tuple[str, ...]
    run: StageFn
    prefetch: Prefetch | None = None
    # Works out in one go, for the whole batch, what `run` would do text by text (a trained
    # model scores a thousand texts far faster at once); `run` alone gives the same result.
    prepare: Prepare | None = None
    # Needs the session (and so runs in the importing process, batch after batch, in order).
    needs_db: bool = False
    # Which drafts it works on; all stages skip rejected and unchanged ones.
    outcomes: frozenset[str] = frozenset({Outcome.NEW, Outcome.MERGED, Outcome.UPDATED})

    @property
    def source(self) -> str:
        return f"{self.name}@{self.version}"


# --- validate ---------------------------------------------------------------------------------

def _first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    field_name = ".".join(str(p) for p in error["loc"]) or "row"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "is not a known field"
    return field_name, message


def validate(draft: Draft, ctx: StageContext) -> Draft:
    if draft.data is None:
        try:
            draft.data = CaseCreate.model_validate(draft.raw)
        except ValidationError as exc:
            draft.reject(*_first_error(exc))
            return draft
    data = draft.data
    if len(data.text) > ctx.settings.text_max_chars:
        draft.reject("text", f"is longer than {ctx.settings.text_max_chars} characters")
        return draft
    received = as_utc(data.received_at, ctx.settings.tz) if data.received_at else ctx.now
    if received > ctx.now + FUTURE_TOLERANCE:
        draft.reject("received_at", "is in the future")
        return draft
    draft.received_at = received
    draft.received_at_given = data.received_at is not None
    draft.kind = data.kind.value
    draft.channel = (data.channel.value if data.channel else ctx.default_channel
                     or Channel.other.value)
    draft.amount = data.amount
    draft.origin, draft.origin_reference = data.origin.value, data.origin_reference
    draft.source_system = data.source_system or ctx.source_system
    if data.source_id:
        draft.source_id = data.source_id
    elif ctx.implicit_source_id == "content":
        draft.source_id = f"sha256:{draft.content_hash[:40]}"
    else:
        draft.source_id = f"uuid:{uuid.uuid4().hex}"
    if data.org:
        org = ctx.orgs.find(data.org)
        if org is None:
            draft.reject("org", f"unknown org {data.org!r}")
            return draft
        if not org.path.startswith(ctx.actor.org_path):
            draft.reject("org", f"org {data.org!r} is outside your scope")
            return draft
        draft.org_id = org.id
    else:
        draft.org_id = ctx.actor.org_id
    return draft


# --- match the source row: idempotency on (source system, source id) ---------------------------

def _prefetch_sources(batch: list[Draft], ctx: IntakeContext) -> None:
    ids_by_system: dict[str, set[str]] = {}
    for d in batch:
        if not d.done:
            ids_by_system.setdefault(d.source_system, set()).add(d.source_id)
    for system, ids in ids_by_system.items():
        wanted = list(ids)
        for start in range(0, len(wanted), 900):
            rows = ctx.db.connection().execute(
                select(IntakeRecord.source_id, IntakeRecord.content_hash, IntakeRecord.case_id,
                       IntakeRecord.outcome)
                .where(IntakeRecord.source_system == system,
                       IntakeRecord.source_id.in_(wanted[start:start + 900])))
            for source_id, content_hash, case_id, outcome in rows:
                ctx.known_sources[(system, source_id)] = (content_hash, case_id, outcome)


def match_source(draft: Draft, ctx: IntakeContext) -> Draft:
    key = (draft.source_system, draft.source_id)
    earlier = ctx.batch_sources.get(key)
    if earlier is not None:
        # Batches never hold one source id twice with different content (see `split_batch`),
        # so a repeat here is the same row again.
        draft.outcome = Outcome.UNCHANGED
        draft.merge_into_draft = earlier
        return draft
    ctx.batch_sources[key] = draft
    known = ctx.known_sources.get(key)
    if known is not None:
        stored_hash, case_id, stored_as = known
        draft.existing_case_id = case_id
        draft.existing_was_merged = stored_as == Outcome.MERGED
        draft.outcome = Outcome.UNCHANGED if stored_hash == draft.content_hash else Outcome.UPDATED
    return draft


# --- normalise and protect personal data -------------------------------------------------------

def normalise(draft: Draft, ctx: StageContext) -> Draft:
    assert draft.data is not None
    draft.text = text.tidy(draft.data.text)
    draft.language = text.language(draft.text)
    draft.text_hash = text.content_key(draft.text)
    return draft


def protect_pii(draft: Draft, ctx: StageContext) -> Draft:
    assert draft.data is not None
    data = draft.data
    if (data.customer_name or data.customer_phone or data.customer_id_number
            or data.customer_email):
        draft.identity = customer_service.protect_identity(
            ctx.ring, name=data.customer_name, phone=data.customer_phone,
            id_number=data.customer_id_number, email=data.customer_email)
    spans = pii.find_pii(draft.text)
    draft.text_masked = pii.mask_text(draft.text, spans)
    draft.similar_key = template_key(draft.text, [(s.start, s.end) for s in spans])
    # A title of our own is cut from the masked text; one given with the record is masked.
    given = draft.data.title
    draft.title = pii.mask_text(given) if given else text.title_from(draft.text_masked)
    draft.text_enc = ctx.ring.encrypt(draft.text, field="case_text")
    if spans:
        draft.annotate("pii", Annotation(sorted({s.type for s in spans}), 0.9,
                                         f"{len(spans)} span(s) masked", PROTECT_PII.source))
    return draft


# --- customer and duplicates -----------------------------------------------------------------

def _prefetch_customers(batch: list[Draft], ctx: IntakeContext) -> None:
    ctx.customers.update(customer_service.ids_by_identity_indexes(
        ctx.db, identities=[d.identity for d in batch if d.identity is not None and not d.done]))


def resolve_customer(draft: Draft, ctx: IntakeContext) -> Draft:
    identity = draft.identity
    if identity is None:
        return draft
    draft.customer_key = identity.key
    for index in identity.indexes:  # ID number, then phone, then e-mail address
        if index in ctx.customers:
            draft.customer_id = ctx.customers[index]
            break
    return draft


def _prefetch_customer_history(batch: list[Draft], ctx: IntakeContext) -> None:
    """The open cases within the duplicates window, and the receipt times within the repeat
    window, of every known customer of the batch's new drafts: one look-up of each customer's
    cases serves dedupe and contextual grading (its drafts are some of dedupe's)."""
    if ctx.history_loaded:
        return
    ctx.history_loaded = True
    receipts = {(d.customer_id, d.received_at) for d in batch if d.customer_id is not None
                and d.outcome == Outcome.NEW and d.received_at is not None}
    if not receipts:
        return
    earliest, latest = min(t for _, t in receipts), max(t for _, t in receipts)
    open_since = earliest - timedelta(days=ctx.settings.dedupe_window_days)
    receipts_since = earliest - timedelta(days=ctx.grading_rules.config.repeat.within_days)
    customer_ids = list({customer_id for customer_id, _ in receipts})
    # Only an open case's text is compared: a closed one's stays in the database.
    open_text: ColumnElement[str | None] = case(
        (Case.status.in_([s.value for s in OPEN_STATUSES]), Case.text_masked))
    for start in range(0, len(customer_ids), 400):
        rows = ctx.db.connection().execute(
            select(Case.id, Case.customer_id, Case.received_at, Case.text_hash, open_text)
            .where(Case.customer_id.in_(customer_ids[start:start + 400]),
                   Case.received_at >= min(open_since, receipts_since)))
        for case_id, customer_id, received_at, text_hash, text_masked in rows:
            if customer_id is None:
                continue
            if text_masked is not None and received_at >= open_since:
                ctx.open_cases.setdefault(customer_id, []).append(
                    OpenCase(case_id, text_hash, text_masked, received_at))
            if receipts_since <= received_at <= latest:
                ctx.recent_receipts.setdefault(customer_id, []).append(received_at)


def dedupe(draft: Draft, ctx: IntakeContext) -> Draft:
    """The same customer saying the same thing (the same words, or a close paraphrase by the
    duplicate matcher) while a case of theirs is open within the window: attach, never
    duplicate. Both sides are compared masked, so no personal data is decrypted."""
    if draft.outcome != Outcome.NEW or draft.customer_key is None:
        return draft
    assert draft.received_at is not None
    window = timedelta(days=ctx.settings.dedupe_window_days)
    stored = [c for c in ctx.open_cases.get(draft.customer_id or -1, [])
              if abs(draft.received_at - c.received_at) <= window]
    pending = [d for d in ctx.batch_new_cases.get(draft.customer_key, [])
               if d.received_at is not None and abs(draft.received_at - d.received_at) <= window]
    texts = [c.text_masked for c in stored] + [d.text_masked for d in pending]
    hashes = [c.text_hash for c in stored] + [d.text_hash for d in pending]
    match = _closest(draft, texts, hashes, ctx)
    if match is None:
        ctx.batch_new_cases.setdefault(draft.customer_key, []).append(draft)
        return draft
    index, score = match
    draft.outcome = Outcome.MERGED
    if index < len(stored):
        draft.merge_into_case_id = stored[index].case_id
    else:
        draft.merge_into_draft = pending[index - len(stored)]
    draft.annotate("duplicate", Annotation(score, score, "same customer, same matter",
                                           DEDUPE.source))
    return draft


# Texts sharing fewer character pairs than this are never paraphrases at the matcher's
# threshold; the cheap test keeps the matcher (jieba and all) off most pairs in bulk intake.
_MIN_SHARED_BIGRAMS = 0.2


def _closest(draft: Draft, texts: list[str], hashes: list[str],
             ctx: IntakeContext) -> tuple[int, float] | None:
    if draft.text_hash in hashes:
        return hashes.index(draft.text_hash), 1.0
    if not texts:
        return None
    mine = _bigrams(draft.text_masked)
    plausible = [i for i, text in enumerate(texts)
                 if _overlap(mine, _bigrams(text)) >= _MIN_SHARED_BIGRAMS]
    if not plausible:
        return None
    match = ctx.duplicate_matcher.best_match(draft.text_masked, [texts[i] for i in plausible])
    return None if match is None else (plausible[match[0]], match[1])


def _bigrams(body: str) -> set[str]:
    return {body[i:i + 2] for i in range(len(body) - 1)}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


# --- grade in context: repeats and possible mass complaints ------------------------------------

def _local_day(moment: datetime, ctx: StageContext) -> str:
    return moment.astimezone(ctx.settings.tz).date().isoformat()


def _prefetch_context(batch: list[Draft], ctx: IntakeContext) -> None:
    """Receipt times of the batch's known customers' recent cases, and how many cases with
    each text (copies of one template count as one text) arrived on each day of the batch."""
    drafts = [d for d in batch if d.outcome == Outcome.NEW and d.received_at is not None]
    if not drafts:
        return
    _prefetch_customer_history(drafts, ctx)
    times = [d.received_at for d in drafts if d.received_at is not None]
    latest = max(times)
    keys = list({d.similar_key for d in drafts})
    day_start = min(times) - timedelta(days=1)
    day = _local_day_sql(ctx)
    for start in range(0, len(keys), 400):
        for similar_key, on, count in ctx.db.connection().execute(
            select(Case.similar_key, day, func.count())
            .where(Case.similar_key.in_(keys[start:start + 400]), Case.received_at >= day_start,
                   Case.received_at <= latest)
            .group_by(Case.similar_key, day)):
            ctx.same_text_on_day[(str(on), str(similar_key))] = int(str(count))


def _local_day_sql(ctx: IntakeContext) -> ColumnElement[Any]:
    """The local calendar day of a case's receipt, computed by the database (ISO text)."""
    if ctx.db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(ctx.settings.timezone, Case.received_at), "YYYY-MM-DD")
    # SQLite has no time zones: shift by the zone's current offset (exact for zones without
    # daylight saving time, such as China's; off by an hour around a DST change elsewhere).
    offset = ctx.now.astimezone(ctx.settings.tz).utcoffset() or timedelta()
    return func.date(Case.received_at, f"{int(offset.total_seconds())} seconds")


def grade_in_context(draft: Draft, ctx: IntakeContext) -> Draft:
    """Raise the grade of a repeat complaint (the same customer within the window) and of a
    text that many complaints share in one day, personal details, amounts and dates aside
    (a possible mass complaint, 群体性投诉)."""
    assert draft.received_at is not None
    key = (_local_day(draft.received_at, ctx), draft.similar_key)
    similar_today = ctx.same_text_on_day.get(key, 0) + 1
    ctx.same_text_on_day[key] = similar_today
    window = timedelta(days=ctx.grading_rules.config.repeat.within_days)
    earlier = ctx.recent_receipts.get(draft.customer_id, []) if draft.customer_id else []
    repeat = any(draft.received_at - window <= t <= draft.received_at for t in earlier)
    if draft.customer_id is not None:
        ctx.recent_receipts.setdefault(draft.customer_id, []).append(draft.received_at)
    if draft.severity_given or not (
            repeat or similar_today >= ctx.grading_rules.config.similar_today.at_least):
        return draft
    result = grading.grade(
        draft.text_masked, amount=draft.amount, rules=ctx.grading_rules,
        birth_year=draft.identity.birth_year if draft.identity else None,
        on=draft.received_at.astimezone(ctx.settings.tz).date(), sentiment=draft.sentiment,
        repeat_within_30_days=repeat, similar_today=similar_today)
    draft.severity = result.severity
    draft.annotate("severity", Annotation(result.severity, 0.8, "; ".join(result.reasons),
                                          f"grading@{grading.VERSION}+context"))
    return draft


# --- understand: classify and grade ------------------------------------------------------------

def _given_term(draft: Draft, dimension: str, ctx: StageContext) -> Any:
    assert draft.data is not None
    given = getattr(draft.data, dimension)
    return ctx.taxonomy.find(dimension, given) if given else None


def _predict_with_models(batch: list[Draft], ctx: StageContext) -> None:
    """The trained model's decision, for each dimension that has one active, over the batch."""
    for dimension in ("product", "category"):
        model = ctx.models.get(dimension)
        if model is None:
            continue
        wanted = [d for d in batch if _given_term(d, dimension, ctx) is None]
        decided = model_decisions(model, [d.text for d in wanted], source=dimension)
        for draft, decision in zip(wanted, decided, strict=True):
            draft.prepared[dimension] = decision


def classify(draft: Draft, ctx: StageContext) -> Draft:
    assert draft.data is not None
    predictions = None
    for dimension in ("product", "category"):
        given = getattr(draft.data, dimension)
        term = _given_term(draft, dimension, ctx)
        if term is not None:
            annotation = Annotation(term.code, 1.0, "given in the source record", "input")
        elif dimension in ctx.models:
            annotation = _by_model(draft, dimension, ctx)
        else:
            predictions = predictions or ctx.classifier.predict(draft.text)
            prediction = predictions[dimension]
            reason = ("keywords: " + ", ".join(prediction.words) if prediction.words
                      else "no keyword matched")
            annotation = Annotation(prediction.code, prediction.confidence, reason,
                                    f"keywords@{keywords.VERSION}")
        if term is None and given:
            annotation = replace(annotation, reason=annotation.reason +
                                 f"; source value {given!r} is not in the taxonomy")
        setattr(draft, dimension, annotation.value)
        draft.annotate(dimension, annotation)
    return draft


def _by_model(draft: Draft, dimension: str, ctx: StageContext) -> Annotation:
    decision = draft.prepared.get(dimension)
    if decision is None:
        decision = model_decisions(ctx.models[dimension], [draft.text], source=dimension)[0]
    reason = ("model: " + ", ".join(decision.words) if decision.words
              else "model: no telling word")
    return Annotation(decision.value, decision.confidence, reason,
                      f"model:{ctx.model_refs.get(dimension, dimension)}")


def _score_sentiment(batch: list[Draft], ctx: StageContext) -> None:
    for draft, mood in zip(batch, ctx.sentiment.score_many([d.text for d in batch]),
                           strict=True):
        draft.prepared["sentiment"] = mood


def sentiment(draft: Draft, ctx: StageContext) -> Draft:
    mood = draft.prepared.get("sentiment") or ctx.sentiment.score(draft.text)
    draft.sentiment = mood.polarity
    source = (f"model:{ctx.model_refs['sentiment']}" if "sentiment" in ctx.models
              else SENTIMENT.source)
    draft.annotate("sentiment", Annotation(
        mood.polarity, mood.intensity, "words: " + ", ".join(mood.words) if mood.words
        else "no sentiment word", source))
    return draft


def grade(draft: Draft, ctx: StageContext) -> Draft:
    assert draft.data is not None
    assert draft.received_at is not None
    if draft.data.severity is not None:
        draft.severity = draft.data.severity.value
        draft.severity_given = True
        draft.annotate("severity", Annotation(draft.severity, 1.0, "given in the source record",
                                              "input"))
        return draft
    result = grading.grade(
        draft.text, amount=draft.amount, rules=ctx.grading_rules,
        birth_year=draft.identity.birth_year if draft.identity else None,
        on=draft.received_at.astimezone(ctx.settings.tz).date(), sentiment=draft.sentiment)
    draft.severity = result.severity
    draft.annotate("severity", Annotation(
        result.severity, 0.8 if result.reasons else 0.6,
        "; ".join(result.reasons) or "no aggravating factor", f"grading@{grading.VERSION}"))
    return draft


# --- route and deadlines -----------------------------------------------------------------------

def route(draft: Draft, ctx: StageContext) -> Draft:
    """The department or queue that works the case: the first routing rule of the workflow
    configuration that holds, else the org the case belongs to."""
    own = ctx.orgs.by_id.get(draft.org_id or -1)
    facts = {"product": draft.product, "category": draft.category, "severity": draft.severity,
             "channel": draft.channel, "origin": draft.origin, "kind": draft.kind}
    rule = pick_queue(ctx.workflow, facts, ctx.orgs.paths, own.path if own else "")
    queue = ctx.orgs.find(rule.queue) if rule else None
    if rule is None or queue is None:
        reason = ("handled where it belongs" if rule is None else
                  f"routing rule names unknown org {rule.queue!r}: handled where it belongs")
        draft.annotate("handling_org", Annotation(own.code if own else None, 1.0, reason,
                                                  ROUTE.source))
        return draft
    draft.handling_org_id = queue.id
    draft.annotate("handling_org", Annotation(queue.code, 1.0, rule.why or "routing rule",
                                              ROUTE.source))
    return draft


def set_sla(draft: Draft, ctx: StageContext) -> Draft:
    assert draft.received_at is not None
    draft.due_at = sla_service.decision_due(draft.kind, draft.received_at, ctx.settings.tz,
                                            origin=draft.origin)
    return draft



VALIDATE = Stage("validate", 2, ("kind", "channel", "received_at", "received_at_given",
                                 "amount", "origin", "origin_reference", "org_id",
                                 "source_system", "source_id"), validate)
NORMALISE = Stage("normalise", 1, ("text", "language", "text_hash"), normalise)
PROTECT_PII = Stage("protect_pii", 3, ("identity", "text_masked", "similar_key", "text_enc",
                                       "title"), protect_pii)
CLASSIFY = Stage("classify", 2, ("product", "category"), classify, prepare=_predict_with_models)
SENTIMENT = Stage("sentiment", 2, ("sentiment",), sentiment, prepare=_score_sentiment)
GRADE = Stage("grade", 1, ("severity",), grade)
ROUTE = Stage("route", 2, ("handling_org_id",), route)
SET_SLA = Stage("set_sla", 1, ("due_at",), set_sla)
MATCH_SOURCE = Stage("match_source", 1, ("outcome", "existing_case_id"), match_source,
                     prefetch=_prefetch_sources, needs_db=True)
RESOLVE_CUSTOMER = Stage("resolve_customer", 2, ("customer_id", "customer_key"),
                         resolve_customer, prefetch=_prefetch_customers, needs_db=True)
DEDUPE = Stage("dedupe", 2, ("outcome", "merge_into_case_id", "merge_into_draft"), dedupe,
               prefetch=_prefetch_customer_history, outcomes=frozenset({Outcome.NEW}),
               needs_db=True)

# Understanding comes first and needs no database; then the stages that look at what is
# stored decide, batch after batch in order, what is new, merged, updated or unchanged.
PURE_STAGES: tuple[Stage, ...] = (VALIDATE, NORMALISE, PROTECT_PII, CLASSIFY, SENTIMENT, GRADE,
                                  ROUTE, SET_SLA)
GRADE_IN_CONTEXT = Stage("grade_in_context", 1, ("severity",), grade_in_context,
                         prefetch=_prefetch_context, outcomes=frozenset({Outcome.NEW}),
                         needs_db=True)
DATABASE_STAGES: tuple[Stage, ...] = (MATCH_SOURCE, RESOLVE_CUSTOMER, DEDUPE, GRADE_IN_CONTEXT)
PIPELINE: tuple[Stage, ...] = PURE_STAGES + DATABASE_STAGES


def run_stages(batch: list[Draft], ctx: StageContext, stages: tuple[Stage, ...]) -> None:
    """Run each stage over the whole batch in turn (so look-ups are made once per batch)."""
    for stage in stages:
        if stage.prefetch is not None:
            assert isinstance(ctx, IntakeContext)
            stage.prefetch(batch, ctx)
        drafts = [d for d in batch if d.outcome in stage.outcomes]
        if stage.prepare is not None and drafts:
            stage.prepare(drafts, ctx)
        for draft in drafts:
            stage.run(draft, ctx)

