"""The QA review queue on screen (质检复核): the inspected calls of the viewer's subtree with
filters by status, agent, team and queue, and one call with its transcript turn by turn
(speaker, time), the turns the rules flagged highlighted with the rule, its category and the
evidence, the review form (confirm or override the score, dismiss hits, a reason) and the
call's audit trail.

The transcript is shown masked; a role that may read personal data may ask for it in full
(`?reveal=1`), which is recorded. Everything goes through `contact.reviews` (roles, scope); a
refused decision leaves nothing behind (the service call runs in a savepoint) and comes back
with what was typed and the problem next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from bankvoc.contact import reviews
from bankvoc.contact.models import InteractionTranscript, QaHit, QaReviewEvent
from bankvoc.contact.rules import RuleSet, load_ruleset
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.customers.disclosure import Via
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import Posted
from bankvoc.web.present import Choice, Labeller, Problem

PAGE = 50
FILTERS = ("status", "agent", "team", "queue")
ANY = "all"
FORM_FIELDS = ("decision", "score", "dismiss", "reason")
REVEAL_VIA = Via("page", "GET /qa/reviews/{result_id}")


def rule_title(rules: RuleSet, rule_id: str, lang: str) -> str:
    """A rule's title in `lang` (titles are written "中文 / English"); its id when the rule set
    in force no longer has it."""
    try:
        title = rules.rule(rule_id).title
    except KeyError:
        return rule_id
    if not title:
        return rule_id
    zh, _, en = title.partition(" / ")
    return (en or zh) if lang == "en" else zh


def reason_text(reason: str, rules: RuleSet, lab: Labeller) -> str:
    """Why a call was queued, in words."""
    kind, _, what = reason.partition(":")
    if kind == "category":
        return lab("qa.reason.category", category=lab(f"qa.category.{what}"))
    if kind == "critical":
        return lab("qa.reason.critical", rule=rule_title(rules, what, lab.lang))
    return lab(f"qa.reason.{kind}", threshold=rules.review.threshold)


def _clock(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


# --- the queue ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueLine:
    id: int
    when: str
    call: str
    agent: str
    team: str
    queue: str
    machine_score: int
    human_score: int | None
    status: str
    status_label: str
    reasons: list[str]


@dataclass
class Queue:
    values: dict[str, str]
    statuses: list[Choice]
    lines: list[QueueLine] = field(default_factory=list)
    total: int = 0
    problem: Problem | None = None

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def queue(session: Session, *, actor: Actor, params: Mapping[str, str],
          lab: Labeller) -> Queue:
    values = {name: str(params.get(name, "")).strip()[:64] for name in FILTERS}
    if "status" not in params:
        values["status"] = reviews.Status.pending.value
    view = Queue(values=values, statuses=[
        Choice(s.value, lab(f"qa.status.{s.value}")) for s in reviews.Status])
    status: reviews.Status | None = None
    if values["status"] and values["status"] != ANY:
        if values["status"] in set(reviews.Status):
            status = reviews.Status(values["status"])
        else:
            view.problem = Problem(field="f-status", label=lab("qa.field_status"),
                                   message=lab("qa.bad_choice"))
    cut = reviews.ReviewFilter(status=status, agent=values["agent"] or None,
                               team=values["team"] or None, queue=values["queue"] or None)
    rows, view.total = reviews.list_results(session, actor=actor, cut=cut, limit=PAGE)
    rules = load_ruleset()
    view.lines = [QueueLine(
        id=r.result.id, when=lab.when(r.interaction.started_at), call=r.interaction.source_id,
        agent=r.interaction.agent or "", team=r.interaction.team or "",
        queue=r.interaction.queue or "", machine_score=r.result.machine_score,
        human_score=r.result.human_score, status=r.result.status,
        status_label=lab(f"qa.status.{r.result.status}"),
        reasons=[reason_text(x, rules, lab) for x in r.result.reasons]) for r in rows]
    return view


# --- one call -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class HitLine:
    id: int
    rule: str
    category: str
    category_label: str
    evidence: str
    dismissed: bool
    where: str = ""  # which turn, in words

    @property
    def summary(self) -> str:
        """What the dismiss box names: category, rule, evidence, turn."""
        parts = [p for p in (self.category_label, self.rule, self.evidence[:40]) if p]
        return " · ".join(parts) + self.where


@dataclass(frozen=True)
class TurnLine:
    index: int
    speaker: str
    speaker_label: str
    start: str
    end: str
    text: Markup  # escaped, each hit's evidence marked
    hits: list[HitLine]


@dataclass(frozen=True)
class EventLine:
    when: str
    action: str
    who: str
    machine_score: int
    before: str
    after: int
    dismissed: str
    reason: str


@dataclass
class ReviewPage:
    id: int
    call: str
    agent: str
    team: str
    queue: str
    org: str
    when: str
    product: str
    machine_score: int
    human_score: int | None
    status: str
    status_label: str
    rules_version: int
    reasons: list[str]
    case_reference: str | None
    turns: list[TurnLine]
    call_hits: list[HitLine]  # hits about the call as a whole (no turn)
    hits: list[HitLine]
    events: list[EventLine]
    can_review: bool
    can_reveal: bool
    revealed: bool
    values: dict[str, str]
    dismiss: set[str]
    problem: Problem | None = None
    status_code: int = 200
    reviewed: bool = False

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def invalid(self, name: str) -> bool:
        return self.problem is not None and self.problem.field == f"f-{name}"


def _marked(text: str, evidence: list[str]) -> Markup:
    """The turn's text, escaped, with the first place of each piece of evidence marked."""
    spans: list[tuple[int, int]] = []
    for said in evidence:
        at = text.find(said) if said and said != text else -1
        if at >= 0 and not any(a < at + len(said) and at < b for a, b in spans):
            spans.append((at, at + len(said)))
    out = Markup()
    cursor = 0
    for start, end in sorted(spans):
        out += escape(text[cursor:start]) + Markup('<mark class="qa-evidence">') \
            + escape(text[start:end]) + Markup("</mark>")
        cursor = end
    return out + escape(text[cursor:])


def _hit_line(hit: QaHit, rules: RuleSet, lab: Labeller) -> HitLine:
    """A hit in words; its rule's title left out when the category says it already."""
    category = lab(f"qa.category.{hit.category}")
    title = rule_title(rules, hit.rule, lab.lang)
    where = lab("qa.at_turn", n=hit.turn + 1) if hit.turn is not None else ""
    return HitLine(id=hit.id, rule="" if title == category else title, category=hit.category,
                   category_label=category, evidence=hit.evidence, dismissed=hit.dismissed,
                   where=where)


def _event_line(event: QaReviewEvent, rules: RuleSet, lab: Labeller) -> EventLine:
    dismissed = "、".join(
        f"{rule_title(rules, str(d['rule']), lab.lang)}"
        + (lab("qa.at_turn", n=int(d["turn"]) + 1) if d.get("turn") is not None else "")
        for d in event.dismissed)
    return EventLine(
        when=lab.when(event.at), action=lab(f"qa.action.{event.action}"),
        who=event.actor_username, machine_score=event.machine_score,
        before="" if event.score_before is None else str(event.score_before),
        after=event.score_after, dismissed=dismissed, reason=event.reason)


def review_page(session: Session, *, actor: Actor, result_id: int, lab: Labeller,
                params: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
                dismiss: set[str] | None = None, problem: Problem | None = None,
                status_code: int = 200) -> ReviewPage:
    params = params or {}
    found = reviews.get_result(session, actor=actor, result_id=result_id)
    result, interaction = found.result, found.interaction
    revealed = params.get("reveal") == "1"
    rules = load_ruleset()
    turns = reviews.transcript_of(session, actor=actor, reviewed=found, reveal=revealed,
                                  via=REVEAL_VIA)
    hits = reviews.hits_of(session, result=result)
    by_turn: dict[int, list[QaHit]] = {}
    for hit in hits:
        if hit.turn is not None:
            by_turn.setdefault(hit.turn, []).append(hit)
    lines = []
    for i, turn in enumerate(turns):
        flagged = by_turn.get(i, [])
        lines.append(TurnLine(
            index=i, speaker=turn.speaker, speaker_label=lab(f"qa.speaker.{turn.speaker}"),
            start=_clock(turn.start_ms), end=_clock(turn.end_ms),
            text=_marked(turn.text, [h.evidence for h in flagged if not h.dismissed]),
            hits=[_hit_line(h, rules, lab) for h in flagged]))
    org = session.get(Org, interaction.org_id)
    transcript = session.get(InteractionTranscript, interaction.id)
    chosen = dict(values or {})
    chosen.setdefault("score", str(result.score))
    return ReviewPage(
        id=result.id, call=interaction.source_id, agent=interaction.agent or "",
        team=interaction.team or "", queue=interaction.queue or "",
        org=(org.name_en if lab.lang == "en" and org and org.name_en else org.name)
        if org else "",
        when=lab.when(interaction.started_at),
        product=(transcript.product or "") if transcript else "",
        machine_score=result.machine_score, human_score=result.human_score,
        status=result.status, status_label=lab(f"qa.status.{result.status}"),
        rules_version=result.rules_version,
        reasons=[reason_text(x, rules, lab) for x in result.reasons],
        case_reference=reviews.case_reference(session, actor=actor, interaction=interaction),
        turns=lines,
        call_hits=[_hit_line(h, rules, lab) for h in hits if h.turn is None],
        hits=[_hit_line(h, rules, lab) for h in hits],
        events=[_event_line(e, rules, lab)
                for e in reversed(reviews.events_of(session, result=result))],
        can_review=actor.can("qa.review"), can_reveal=actor.can("pii.read"),
        revealed=revealed, values=chosen,
        dismiss=dismiss if dismiss is not None else {str(h.id) for h in hits if h.dismissed},
        problem=problem, status_code=status_code, reviewed=params.get("reviewed") == "1")


def _problem(name: str, lab: Labeller, message: str, detail: str = "") -> Problem:
    return Problem(field=f"f-{name}", label=lab(f"qa.field_{name}"), message=message,
                   detail=detail)


def decide(session: Session, *, actor: Actor, result_id: int, posted: Posted,
           lab: Labeller) -> ReviewPage | None:
    """Record the posted decision: None when done, else the page again with what was typed and
    the problem next to its field. A role that may not review gets 403 from the service, a call
    outside the subtree 404."""
    reviews.get_result(session, actor=actor, result_id=result_id)
    values = posted.first()
    dismiss = set(posted.getlist("dismiss"))
    decision = posted.get("decision").strip()
    problem: Problem | None = None
    score: int | None = None
    raw_score = posted.get("score").strip()
    if decision not in ("confirm", "override"):
        problem = _problem("decision", lab, lab("qa.choose_decision"))
    elif decision == "override":
        if not raw_score.lstrip("-").isdigit():
            problem = _problem("score", lab, lab("qa.bad_score"))
        else:
            score = int(raw_score)
    if problem is None and not all(d.isdigit() for d in dismiss):
        problem = _problem("dismiss", lab, lab("qa.invalid"))
    status = 422
    if problem is None:
        try:
            with session.begin_nested():
                reviews.review(session, actor=actor, result_id=result_id,
                               decision="confirm" if decision == "confirm" else "override",
                               reason=posted.get("reason"), score=score,
                               dismiss=[int(d) for d in dismiss])
            return None
        except BankvocError as exc:
            if exc.status in (403, 404):
                raise
            name = exc.field if exc.field in FORM_FIELDS else "reason"
            message = lab(f"qa.problem.{name}") if isinstance(exc, Invalid) \
                else lab("qa.invalid")
            problem, status = _problem(name, lab, message, exc.message), exc.status
    return review_page(session, actor=actor, result_id=result_id, lab=lab, values=values,
                       dismiss=dismiss, problem=problem, status_code=status)
