"""The words of deadlines: where a case came from, the kinds of clock and their states."""

from __future__ import annotations

from enum import StrEnum

from bankvoc.core.i18n import register


class Origin(StrEnum):
    """Who passed the case to the bank; the statutory clock depends on it."""

    direct = "direct"  # the customer came to the bank
    nfra = "nfra"  # transferred by the NFRA (国家金融监督管理总局) or a local office
    pboc = "pboc"  # transferred by a PBoC branch (人民银行转办)
    hotline_12378 = "12378"  # the NFRA consumer hotline
    hotline_12345 = "12345"  # the local government service hotline


class ClockUnit(StrEnum):
    """How a clock counts: statutory days, or the bank's calendar or working hours."""

    days = "days"
    calendar = "calendar"
    working = "working"


class ClockState(StrEnum):
    running = "running"
    paused = "paused"  # outside appraisal, testing or evaluation: not counted
    waiting = "waiting"  # not started: the customer's corrections are outstanding
    met = "met"  # what the clock asked for was done
    stopped = "stopped"  # the complaint was withdrawn


register("origin", {
    "direct": ("客户直接投诉", "Direct"),
    "nfra": ("金融监管总局转办", "NFRA transfer"),
    "pboc": ("人民银行转办", "PBoC transfer"),
    "12378": ("12378热线转办", "12378 hotline"),
    "12345": ("12345热线转办", "12345 hotline"),
})
register("clock_state", {
    "running": ("计时中", "Running"),
    "paused": ("暂停计时", "Paused"),
    "waiting": ("待补正", "Awaiting corrections"),
    "met": ("已完成", "Met"),
    "stopped": ("已终止", "Stopped"),
})
