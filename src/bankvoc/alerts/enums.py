"""The words of early warning: the kinds of alert and their states."""

from __future__ import annotations

from enum import StrEnum

from bankvoc.core.i18n import register


class AlertKind(StrEnum):
    hot_issue = "hot_issue"  # 热点问题: a count above its seasonal baseline
    emerging_topic = "emerging_topic"  # 新兴话题: a new cluster of similar texts
    mass_complaint = "mass_complaint"  # 疑似群体性投诉
    regulator_risk = "regulator_risk"  # 监管投诉风险: likely to reach the regulator


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"


register("alert_kind", {
    "hot_issue": ("热点问题预警", "Hot issue"),
    "emerging_topic": ("新兴话题预警", "Emerging topic"),
    "mass_complaint": ("疑似群体性投诉", "Possible mass complaint"),
    "regulator_risk": ("监管投诉风险", "Regulator risk"),
})
register("alert_status", {
    "open": ("待确认", "Open"),
    "acknowledged": ("已确认", "Acknowledged"),
})
