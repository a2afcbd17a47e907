"""Tables of the VOC numbers: the case roll-up, what is imported per org and month (the
denominators the regulator's ratios need) and the bank's KPI targets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class CaseRollup(Base):
    """Additive measures of the cases received in one period at one org, of one kind, cut by
    one dimension (`dim` = all | channel | product | category | segment, `value` its code).

    Two grains: `month` rows carry every cut; `day` rows only the `all` cut (trends, the
    dashboard's daily chart). One row per cut, not one per combination of cuts: a dimension
    multiplies the rows by its few values instead of the product of all of them, so a year of a
    10-million-case bank is about a million rows and a month's KPI sums a few ten thousand.
    A question the rows cannot answer (two cuts at once, a range that is not whole months)
    reads the cases themselves (see `analytics.query`).

    Rows are rebuilt, not incremented: a trigger marks the bucket of every changed case,
    callback or survey answer (`rollup_mark`), and the refresh recomputes the bucket's rows
    from its cases, so a refresh run twice gives the same rows. Satisfaction answers of
    stand-alone surveys are rows of kind `survey`.
    """

    __tablename__ = "case_rollup"
    __table_args__ = (Index("ix_case_rollup_grain_dim_period", "grain", "dim", "period"),)

    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)  # the day, or a month's 1st
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    complainants: Mapped[int] = mapped_column(Integer, default=0)  # distinct in the row
    decided: Mapped[int] = mapped_column(Integer, default=0)
    decision_days: Mapped[float] = mapped_column(Float, default=0.0)  # sum over decided cases
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    regulator: Mapped[int] = mapped_column(Integer, default=0)
    first_contact: Mapped[int] = mapped_column(Integer, default=0)
    called_back: Mapped[int] = mapped_column(Integer, default=0)
    csat_answers: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[int] = mapped_column(Integer, default=0)
    csat_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    nps_answers: Mapped[int] = mapped_column(Integer, default=0)
    promoters: Mapped[int] = mapped_column(Integer, default=0)
    detractors: Mapped[int] = mapped_column(Integer, default=0)


class RollupMark(Base):
    """An org and UTC day some of whose cases (or answers) changed: its roll-up rows must be
    rebuilt. Written in the transaction of the change: for a changed or deleted case, callback
    or answer by a database trigger, so no writer can forget it; for a new case by whoever
    inserts it (`rollup.mark_new_cases`). Removed by the refresh that rebuilt them.

    An append-only log, not a set: a unique key would make two transactions that change
    cases of the same org on the same day wait for each other (or deadlock) on PostgreSQL.
    """

    __tablename__ = "rollup_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    utc_day: Mapped[date] = mapped_column(Date)
    org_id: Mapped[int] = mapped_column(Integer)


class OrgMonthStat(Base):
    """Imported per org and month: customers (all, and individual), outlets. The denominators of
    complaint rate and of the regulator's complaints per 10,000 customers, per 1,000 outlets
    and per 10 million individual customers."""

    __tablename__ = "org_month_stat"

    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    customers: Mapped[int | None] = mapped_column(Integer)
    individual_customers: Mapped[int | None] = mapped_column(Integer)
    outlets: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class KpiTarget(Base):
    """The bank's target for a KPI, bank-wide (`org_id` empty) or for one org and its subtree,
    from a month on. The nearest org up the tree with a target sets it."""

    __tablename__ = "kpi_target"
    __table_args__ = (UniqueConstraint("kpi", "org_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    value: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KpiTargetChange(Base):
    """One setting of a KPI target, as it was done: who, when, the value before (empty: there was
    none for that KPI, org and month) and after, and why. Written by `set_target` in the same
    transaction as the target itself; never updated."""

    __tablename__ = "kpi_target_change"
    __table_args__ = (Index("ix_kpi_target_change_kpi_at", "kpi", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    kpi: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    before_value: Mapped[float | None] = mapped_column(Float)
    after_value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(500), default="")


class FiguresVersion(Base):
    """One row: the token of the figures in force (analytics.freshness replaces it whenever a
    transaction that changed the roll-up, the denominators, the targets or the orgs commits)."""

    __tablename__ = "figures_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


# Registers the session events that keep the token moving wherever these tables are written.
from bankvoc.analytics import freshness  # noqa: E402,F401
