"""The workflow's forms: which inputs each action takes, a posted form turned into the action's
`Step`, and any refusal turned into a problem that names the input to fix.

The rules stay in the workflow service; this module only knows how each action is asked for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from bankvoc.cases.enums import DecisionType
from bankvoc.cases.workflow import schemas
from bankvoc.cases.workflow.table import Action
from bankvoc.core.errors import BankvocError, NotFound
from bankvoc.core.timeutil import as_utc

STEP = schemas.STEP_ADAPTER

InputKind = Literal["text", "textarea", "select", "number", "date", "datetime", "checkbox",
                    "yesno", "handler", "username", "org"]


@dataclass(frozen=True)
class Input:
    """One input of an action's form. `choices` are codes, labelled from `namespace`."""

    name: str
    kind: InputKind
    required: bool = False
    choices: tuple[str, ...] = ()
    namespace: str = ""
    max_length: int | None = None
    sensitive: bool = False  # personal data: never written back into the page


def _literal(model: type[BaseModel], name: str) -> tuple[str, ...]:
    return tuple(str(v) for v in get_args(model.model_fields[name].annotation))


VIA = tuple(str(v) for v in get_args(schemas.Via))
NOTE_KINDS = _literal(schemas.Note, "kind")
PAUSE_REASONS = _literal(schemas.Pause, "reason")
REGULATOR_VIA = _literal(schemas.AnswerRegulator, "via")
DECISIONS = tuple(d.value for d in DecisionType)


def _reason(required: bool = True) -> Input:
    return Input("reason", "textarea", required=required, max_length=1000)


FORMS: dict[Action, tuple[Input, ...]] = {
    Action.accept: (Input("subject_user", "username", max_length=64),
                    Input("subject_org", "org", max_length=32)),
    Action.refuse: (_reason(),),
    Action.assign: (Input("user", "handler"),),
    Action.investigate: (),
    Action.note: (Input("kind", "select", True, NOTE_KINDS, "note_kind"),
                  Input("text", "textarea", True, max_length=5000)),
    Action.propose: (Input("decision", "select", True, DECISIONS, "decision"),
                     Input("amount", "number"),
                     Input("basis", "textarea", True, max_length=5000),
                     _reason(required=False)),
    Action.approve: (Input("comment", "textarea", max_length=1000),),
    Action.resolve: (Input("told_via", "select", True, VIA, "via"),
                     Input("told_at", "datetime"),
                     Input("summary", "textarea", True, max_length=5000)),
    Action.tell: (Input("via", "select", True, VIA, "via"),
                  Input("summary", "textarea", True, max_length=5000)),
    Action.customer_answer: (Input("satisfied", "yesno", True),
                             Input("comment", "textarea", max_length=2000)),
    Action.close: (),
    Action.archive: (),
    Action.reopen: (_reason(),),
    Action.transfer: (Input("to_org", "org", True, max_length=32), _reason()),
    Action.add_cohandler: (Input("org", "org", True, max_length=32),
                           Input("user", "username", max_length=64),
                           Input("due_at", "datetime")),
    Action.add_complainant: (Input("name", "text", max_length=50, sensitive=True),
                             Input("phone", "text", max_length=20, sensitive=True),
                             Input("id_number", "text", max_length=18, sensitive=True),
                             Input("representative", "checkbox")),
    Action.escalate: (_reason(),),
    Action.extend: (_reason(), Input("approved_by", "username", max_length=64)),
    Action.pause: (Input("reason", "select", True, PAUSE_REASONS, "pause_reason"),
                   Input("note", "textarea", max_length=1000)),
    Action.resume: (),
    Action.merge: (Input("into", "text", True, max_length=24),),
    Action.withdraw: (Input("arrived_on", "date"), _reason(required=False)),
    Action.answer_regulator: (Input("via", "select", True, REGULATOR_VIA, "regulator_via"),
                              Input("summary", "textarea", True, max_length=5000),
                              Input("reference", "text", max_length=64)),
}
assert set(FORMS) == set(Action), "every action needs its form"

# The service names some fields by what they are (a user, an org); the forms by their role.
FIELD_ALIASES: dict[Action, dict[str, str]] = {
    Action.accept: {"user": "subject_user", "org": "subject_org"},
    Action.transfer: {"org": "to_org"},
    Action.extend: {"user": "approved_by"},
}
# Service error codes with their own words on the page (ui.step_error.*).
KNOWN_CODES = frozenset({"illegal_transition", "stale_version", "conflict_of_interest",
                         "approval_needed", "extension_limit", "paused", "not_paused",
                         "forbidden"})
VALIDATION_KEYS = {
    "missing": "required", "string_too_short": "required", "string_too_long": "too_long",
    "decimal_parsing": "amount", "decimal_type": "amount", "decimal_max_digits": "amount",
    "decimal_max_places": "amount", "decimal_whole_digits": "amount",
    "greater_than_equal": "not_negative", "greater_than": "not_negative",
    "literal_error": "choice", "enum": "choice", "bool_parsing": "choice",
    "date_parsing": "date", "date_from_datetime_parsing": "date", "date_type": "date",
    "datetime_parsing": "datetime", "datetime_from_date_parsing": "datetime",
    "int_parsing": "version", "int_type": "version",
}


@dataclass(frozen=True)
class StepProblem:
    """Why a step was not taken: `field` is the input to fix (None: the form as a whole);
    `key` names a `ui.step_error.*` message, `params` fill it, `detail` is the service's own
    words when no message of ours says more."""

    field: str | None
    key: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    detail: str = ""
    status: int = 422


class StepFormError(Exception):
    def __init__(self, problem: StepProblem) -> None:
        super().__init__(problem.key)
        self.problem = problem


def inputs_of(action: Action) -> tuple[Input, ...]:
    return FORMS[action]


def kept_values(action: Action, posted: Mapping[str, str]) -> dict[str, str]:
    """What the user typed, to show again next to a problem (never personal data)."""
    return {i.name: posted.get(i.name, "") for i in FORMS[action] if not i.sensitive}


def _value(item: Input, raw: str, tz: ZoneInfo) -> Any:
    if item.kind == "checkbox":
        return bool(raw)
    if item.kind == "yesno":
        return {"yes": True, "no": False}.get(raw, raw)
    if item.kind == "datetime":
        try:
            return as_utc(datetime.fromisoformat(raw), tz)
        except ValueError:
            raise StepFormError(StepProblem(item.name, "datetime", {"value": raw})) from None
    return raw


def parse_step(action: Action, posted: Mapping[str, str], *, tz: ZoneInfo) -> schemas.Step:
    """The step the form asks for, or a `StepFormError` naming the first input to fix.

    Empty optional inputs are left out, so the action's defaults apply; times typed in a
    `datetime-local` input are the bank's local time."""
    version = posted.get("version", "").strip()
    if not version.isdigit():
        raise StepFormError(StepProblem(None, "version"))
    data: dict[str, Any] = {"action": action.value, "version": int(version)}
    for item in FORMS[action]:
        raw = posted.get(item.name, "").strip()
        if raw or item.kind == "checkbox":
            data[item.name] = _value(item, raw, tz)
    try:
        return STEP.validate_python(data)
    except ValidationError as exc:
        raise StepFormError(_validation_problem(action, exc, posted)) from None


def _named_field(action: Action, message: str) -> str | None:
    """A rule over several inputs names the one to fix in its message: the last one named."""
    names = {i.name for i in FORMS[action]}
    found = [(m.start(), m.group(0)) for m in re.finditer(r"[a-z_]+", message)
             if m.group(0) in names]
    return max(found)[1] if found else None


def _validation_problem(action: Action, exc: ValidationError,
                        posted: Mapping[str, str]) -> StepProblem:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    kind = str(first["type"])
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    name = loc[1] if len(loc) > 1 else None
    if name == "version":
        return StepProblem(None, "version")
    if kind == "value_error" and name is None:
        name = _named_field(action, message)
        return StepProblem(name, f"rule.{action.value}.{name}" if name else "rule",
                           detail=message)
    ctx = first.get("ctx") or {}
    key = VALIDATION_KEYS.get(kind, "invalid")
    params: dict[str, Any] = {"value": posted.get(name or "", "")}
    if key == "too_long":
        params["max"] = ctx.get("max_length", "")
    return StepProblem(name, key, params, detail="" if key != "invalid" else message)


def explain(exc: BankvocError, action: Action, posted: Mapping[str, str]) -> StepProblem:
    """A refusal by the workflow service, as a problem next to the action's form."""
    names = {i.name for i in FORMS[action]}
    name = FIELD_ALIASES.get(action, {}).get(exc.field or "", exc.field or "")
    field_name = name if name in names else None
    if isinstance(exc, NotFound) and field_name:
        return StepProblem(field_name, "not_found", {"value": posted.get(field_name, "")},
                           status=422)
    if exc.code in KNOWN_CODES:
        return StepProblem(field_name, exc.code, detail=exc.message, status=exc.status)
    return StepProblem(field_name, "refused", detail=exc.message, status=exc.status)
