"""The kinds of versioned configuration: what each is, its file (version 0) and its check.

Each kind is checked by its own feature's parser, so an edit is refused with the line and the
reason of each problem exactly as a bad file would be, plus what only the application knows:
the variables it gives each notification template, the roles and case attributes that routing
rules and authority limits may name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bankvoc.alerts import config as alert_config
from bankvoc.cases.enums import CaseKind, Channel, Severity
from bankvoc.cases.workflow import config as workflow_config
from bankvoc.config.errors import UnknownKind
from bankvoc.contact import rules as qa_rules
from bankvoc.contact import targets as contact_targets
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import FileRefused, Problem, YamlFileError, read_text, refuse
from bankvoc.nlp import grading, taxonomy
from bankvoc.notify import templates
from bankvoc.orgs.enums import Role
from bankvoc.people import weights as scorecard_weights
from bankvoc.servicedata import targets as service_targets
from bankvoc.sla import calendar, policy
from bankvoc.sla.enums import Origin


class ConfigInvalid(YamlFileError):
    """An edit refused: `problems` holds the line and reason of each."""

    code = "config_invalid"
    default_field = "content"


# A calendar ships no file: version 0 is this (no year listed: chinese-calendar's years only).
EMPTY_CALENDAR = """\
# 银行自定义工作日历：chinese-calendar 尚未收录的年份的节假日与调休上班日。
# The bank's calendar for years chinese-calendar does not cover yet: public holidays (ranges
# written 2027-10-01..2027-10-07) and the weekend days that are working days (调休).
version: "0"
years: {}
#  2027:
#    holidays: [2027-01-01, 2027-02-05..2027-02-11, 2027-10-01..2027-10-07]
#    workdays: [2027-02-14, 2027-10-09]
"""


@dataclass(frozen=True)
class Kind:
    """One kind of versioned configuration."""

    code: str
    zh: str
    en: str
    package: str
    filename: str | None  # shipped in the package; None: `empty` is version 0
    setting: str | None  # the Settings field naming the bank's own file, if it may have one
    check: Callable[[str, str], object]  # parses (text, source) or raises FileRefused
    empty: str = ""

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def own_file(self) -> Path | None:
        """The bank's own file (its BANKVOC_* setting), if set."""
        return getattr(get_settings(), self.setting) if self.setting else None

    def file_source(self) -> str:
        path = self.own_file()
        return str(path) if path is not None else (self.filename or "")

    def file_text(self) -> str:
        """Version 0: the bank's own file (its setting), else the shipped one."""
        path = self.own_file()
        if path is not None:
            return read_text(path, ConfigInvalid)
        if self.filename is None:
            return self.empty
        return resources.files(self.package).joinpath(self.filename).read_text("utf-8")

    def validate(self, text: str, *, source: str) -> object:
        """What the text configures, or ConfigInvalid naming each problem's line and reason."""
        try:
            return self.check(text, source)
        except FileRefused as exc:
            raise ConfigInvalid(exc.message, problems=exc.problems) from None
        except grading.GradingRulesError as exc:  # (its own parser: the line is in the message)
            raise ConfigInvalid(exc.message, problems=[Problem((), exc.message)]) from None


# --- checks beyond the features' own parsers ----------------------------------------------------

_VALUES: dict[str, frozenset[str]] = {
    "severity": frozenset(Severity), "channel": frozenset(Channel),
    "origin": frozenset(Origin), "kind": frozenset(CaseKind),
}


def _workflow_problems(config: workflow_config.WorkflowConfig) -> Iterator[Problem]:
    roles = {r.value for r in Role}
    for role in config.authority_limits:
        if role not in roles:
            yield Problem(("authority_limits", role),
                          f"{role!r} is not a role (roles: {', '.join(sorted(roles))})")
    for role, limit in config.authority_limits.items():
        if limit < 0:
            yield Problem(("authority_limits", role), "a limit is not negative")
    terms = taxonomy.load_taxonomy()
    known = {**_VALUES, "product": frozenset(t.code for t in terms.products),
             "category": frozenset(t.code for t in terms.categories)}
    for i, rule in enumerate(config.routing):
        for name, values in rule.when.items():
            allowed = known.get(name)
            for j, value in enumerate(values):
                if allowed is not None and str(value) not in allowed:
                    yield Problem(("routing", i, "when", name, j),
                                  f"{value!r} is not a {name} (known: "
                                  f"{', '.join(sorted(allowed))})")


def _check_workflow(text: str, source: str) -> workflow_config.WorkflowConfig:
    parsed = workflow_config.parse_config(text, source=source)
    problems = list(_workflow_problems(parsed))
    if problems:
        raise refuse(text, problems, source=source, error=ConfigInvalid)
    return parsed


def _check_calendar(text: str, source: str) -> calendar.CalendarFile:
    return calendar.parse_calendar(text, source=source)


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("taxonomy", "分类体系", "Taxonomy", "bankvoc.nlp", taxonomy.DEFAULT_PATH,
         "taxonomy_file", lambda text, source: taxonomy.parse_taxonomy(text, source=source)),
    Kind("sla_policy", "时限规则", "Deadline (SLA) policy", "bankvoc.sla", policy.DEFAULT_PATH,
         "sla_policy_file", lambda text, source: policy.parse_policy(text, source=source)),
    Kind("calendar", "工作日历", "Business calendar", "bankvoc.sla", None, "calendar_file",
         _check_calendar, empty=EMPTY_CALENDAR),
    Kind("notify_templates", "通知模板", "Notification templates", "bankvoc.notify",
         templates.SHIPPED, "notify_templates_file",
         lambda text, source: templates.check_templates(text, source=source)),
    Kind("workflow", "分派规则与授权额度", "Routing rules and authority limits",
         "bankvoc.cases.workflow", "workflow.yaml", "workflow_file", _check_workflow),
    Kind("grading", "分级规则", "Grading rules", "bankvoc.nlp", grading.DEFAULT_PATH,
         None, lambda text, source: grading.parse_grading_config(text, source=source)),
    Kind("alert_rules", "预警规则", "Alert rules", "bankvoc.alerts", "rules.yaml",
         "alerts_rules_file", lambda text, source: alert_config.parse_rules(text, source=source)),
    Kind("qa_rules", "质检规则", "Quality-inspection rules", "bankvoc.contact",
         qa_rules.DEFAULT_PATH, None,
         lambda text, source: qa_rules.parse_ruleset(text, source=source)),
    Kind("service_targets", "运营服务指标目标", "Service-data targets", "bankvoc.servicedata",
         service_targets.DEFAULT_PATH, None,
         lambda text, source: service_targets.parse_targets(text, source=source)),
    Kind("contact_targets", "呼叫中心指标目标", "Contact-centre targets", "bankvoc.contact",
         contact_targets.DEFAULT_PATH, None,
         lambda text, source: contact_targets.parse_targets(text, source=source)),
    Kind("scorecard_weights", "绩效计分卡权重", "Scorecard weights", "bankvoc.people",
         scorecard_weights.DEFAULT_PATH, None,
         lambda text, source: scorecard_weights.parse_weights(text, source=source)),
)}


def get_kind(code: str) -> Kind:
    found = KINDS.get(code)
    if found is None:
        raise UnknownKind(f"no kind of configuration {code!r} (kinds: {', '.join(KINDS)})",
                          field="kind")
    return found
