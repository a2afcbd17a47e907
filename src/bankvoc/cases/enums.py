from __future__ import annotations

from enum import StrEnum

from bankvoc.core.i18n import register
from bankvoc.sla.enums import Origin


class CaseKind(StrEnum):
    complaint = "complaint"
    complaint_intent = "complaint_intent"
    suggestion = "suggestion"
    hard_question = "hard_question"
    praise = "praise"


# Reference prefixes: 投诉 TS, 投诉意向 TY, 建议 JY, 疑难 YN, 表扬 BY.
REFERENCE_PREFIX: dict[str, str] = {
    CaseKind.complaint: "TS",
    CaseKind.complaint_intent: "TY",
    CaseKind.suggestion: "JY",
    CaseKind.hard_question: "YN",
    CaseKind.praise: "BY",
}


class Channel(StrEnum):
    hotline = "hotline"
    branch = "branch"
    mobile_app = "mobile_app"
    online_banking = "online_banking"
    wechat = "wechat"
    email = "email"
    letter = "letter"
    sms = "sms"
    self_service = "self_service"
    third_party = "third_party"
    regulator = "regulator"
    web = "web"
    other = "other"


class Severity(StrEnum):
    general = "general"  # 一般
    important = "important"  # 重要
    urgent = "urgent"  # 紧急
    major = "major"  # 重大


SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class CaseStatus(StrEnum):
    received = "received"
    accepted = "accepted"
    not_accepted = "not_accepted"
    assigned = "assigned"
    investigating = "investigating"
    solution_proposed = "solution_proposed"
    resolved = "resolved"
    closed = "closed"
    archived = "archived"
    withdrawn = "withdrawn"
    merged = "merged"  # joined to another case of the same matter


CLOSED_STATUSES = frozenset({CaseStatus.closed, CaseStatus.archived, CaseStatus.not_accepted,
                             CaseStatus.withdrawn, CaseStatus.merged})
OPEN_STATUSES = frozenset(CaseStatus) - CLOSED_STATUSES


register("kind", {
    "complaint": ("投诉", "Complaint"),
    "complaint_intent": ("投诉意向", "Complaint intent"),
    "suggestion": ("建议", "Suggestion"),
    "hard_question": ("疑难", "Hard question"),
    "praise": ("表扬", "Praise"),
})
register("channel", {
    "hotline": ("客服热线", "Hotline"),
    "branch": ("网点柜面", "Branch"),
    "mobile_app": ("手机银行", "Mobile app"),
    "online_banking": ("网上银行", "Online banking"),
    "wechat": ("微信", "WeChat"),
    "email": ("电子邮件", "E-mail"),
    "letter": ("信函", "Letter"),
    "sms": ("短信", "SMS"),
    "self_service": ("自助机具", "Self-service"),
    "third_party": ("第三方渠道", "Third party"),
    "regulator": ("监管转办", "Regulator transfer"),
    "web": ("官方网站", "Website"),
    "other": ("其他", "Other"),
})
register("severity", {
    "general": ("一般", "General"),
    "important": ("重要", "Important"),
    "urgent": ("紧急", "Urgent"),
    "major": ("重大", "Major"),
})
register("status", {
    "received": ("已登记", "Received"),
    "accepted": ("已受理", "Accepted"),
    "not_accepted": ("不予受理", "Not accepted"),
    "assigned": ("已分派", "Assigned"),
    "investigating": ("调查中", "Investigating"),
    "solution_proposed": ("已提出方案", "Solution proposed"),
    "resolved": ("已解决", "Resolved"),
    "closed": ("已办结", "Closed"),
    "archived": ("已归档", "Archived"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "merged": ("已合并", "Merged"),
})


# Where a case came from is a deadline word (sla.enums); transfers have their own clocks.
REGULATOR_ORIGINS = frozenset(Origin) - {Origin.direct}


class DecisionType(StrEnum):
    explanation = "explanation"  # 解释说明
    correction = "correction"  # 纠正差错
    refund = "refund"  # 退款
    compensation = "compensation"  # 赔偿/补偿
    refused = "refused"  # 不予支持 (with reason)


register("decision", {
    "explanation": ("解释说明", "Explanation"),
    "correction": ("纠正差错", "Correction"),
    "refund": ("退款", "Refund"),
    "compensation": ("赔偿补偿", "Compensation"),
    "refused": ("不予支持", "Refused"),
})
