"""A case's clocks under the shipped policy: periods, extensions, pauses, withdrawal, restarts,
PBoC transfers, the bank's targets and their warnings. Time is always passed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest

from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.sla.calendar import WorkCalendar
from bankvoc.sla.clocks import (
    CaseClocks,
    ClockEvent,
    ClockMet,
    CorrectionsCompleted,
    CorrectionsRequested,
    ExtensionGranted,
    NewFacts,
    PauseEnded,
    PauseStarted,
    Withdrawn,
    compute_clocks,
    warn_at,
)
from bankvoc.sla.enums import ClockState, ClockUnit
from bankvoc.sla.errors import ApproverNotAllowed, ClockEventInvalid, ExtensionRefused
from bankvoc.sla.policy import CaseFacts, Policy, load_policy, parse_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar()  # chinese-calendar only
D = dt.date

WORKING_HOURS_POLICY = """\
version: "working-1"
targets:
  response:
    zh: 响应
    en: Response
    rules:
      - id: complaints
        match: {kinds: [complaint]}
        hours: 4
        unit: working
"""


def at(text: str) -> dt.datetime:
    """A Shanghai wall-clock time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def clocks(received: str = "2026-06-01 10:00", *events: ClockEvent, now: str | None = None,
           kind: str = "complaint", origin: str = "direct", channel: str | None = None,
           severity: str | None = "general", policy: Policy | None = None) -> CaseClocks:
    """The clocks of a case received at `received` (Shanghai), after `events`, at `now`
    (default: the last event, else the receipt)."""
    moments: Sequence[dt.datetime] = [e.at for e in events] or [at(received)]
    return compute_clocks(policy or load_policy(),
                          CaseFacts(kind, origin, channel=channel, severity=severity),
                          at(received), events,
                          now=at(now) if now else max(moments), tz=SHANGHAI, calendar=CALENDAR)


def local(value: dt.datetime | None) -> dt.datetime:
    assert value is not None
    return value.astimezone(SHANGHAI)


class TestDecisionPeriod:
    @pytest.mark.parametrize(("received", "last_day"), [
        # The 15th day (7 Oct) falls in the National Day holiday: work resumes on 8 Oct.
        ("2026-09-22 15:30", D(2026, 10, 8)),
        # The 15th day is Saturday 10 Oct, an adjusted working day (调休).
        ("2026-09-25 09:00", D(2026, 10, 10)),
        # The 15th day is an ordinary Saturday (27 Jun): the period ends on Monday 29 Jun.
        ("2026-06-12 11:00", D(2026, 6, 29)),
    ])
    def test_15_days_counted_as_the_law_counts_them(self, received: str,
                                                    last_day: dt.date) -> None:
        decision = clocks(received)["decision"]
        assert decision.last_day == last_day
        assert local(decision.due_at) == dt.datetime.combine(last_day + dt.timedelta(days=1),
                                                             dt.time(), tzinfo=SHANGHAI)

    def test_runs_from_receipt_with_15_of_at_most_60_days(self) -> None:
        decision = clocks()["decision"]
        assert (decision.state, decision.unit, decision.rule) == (
            ClockState.running, ClockUnit.days, "nfra_measures")
        assert (decision.days, decision.max_days, decision.paused_days) == (15, 60, 0)
        assert decision.started_at == at("2026-06-01 10:00")

    def test_is_overdue_from_24_00_of_its_last_day(self) -> None:
        decision = clocks()["decision"]  # last day Tuesday 16 Jun
        assert not decision.overdue(at("2026-06-16 23:59"))
        assert decision.overdue(at("2026-06-17 00:00"))

    def test_praise_has_no_clock(self) -> None:
        assert dict(clocks(kind="praise", channel="hotline").clocks) == {}

    def test_carries_the_policy_version(self) -> None:
        assert clocks().policy_version == load_policy().version


class TestExtensions:
    def test_a_complex_case_is_extended_to_30_days_without_further_approval(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          ExtensionGranted(at=at("2026-06-10 10:00"), days=15))["decision"]
        assert (decision.days, decision.last_day) == (30, D(2026, 7, 1))
        (extension,) = decision.extensions
        assert (extension.days, extension.total_days, extension.approver) == (15, 30, None)
        assert extension.tell_customer

    @pytest.mark.parametrize("approver", ["superior_office", "head_office_senior_manager"])
    def test_a_further_30_days_with_the_superior_or_a_senior_managers_approval(
        self, approver: str
    ) -> None:
        decision = clocks("2026-06-01 10:00",
                          ExtensionGranted(at=at("2026-06-10 10:00"), days=15),
                          ExtensionGranted(at=at("2026-06-30 10:00"), days=30,
                                           approver=approver))["decision"]
        assert (decision.days, decision.last_day) == (60, D(2026, 7, 31))
        assert [e.approver for e in decision.extensions] == [None, approver]

    def test_the_further_30_days_by_anyone_else_are_refused(self) -> None:
        with pytest.raises(ApproverNotAllowed) as caught:
            clocks("2026-06-01 10:00",
                   ExtensionGranted(at=at("2026-06-10 10:00"), days=15),
                   ExtensionGranted(at=at("2026-06-30 10:00"), days=30, approver="handler"))
        error = caught.value
        assert isinstance(error, Forbidden)
        assert (error.status, error.field) == (403, "approver")
        assert error.message == (
            "extending the decision period to 60 days needs the approval of superior_office or "
            "head_office_senior_manager (rule nfra_measures); 'handler' may not")

    def test_the_further_30_days_without_an_approver_are_refused(self) -> None:
        with pytest.raises(ApproverNotAllowed, match="and none is given"):
            clocks("2026-06-01 10:00",
                   ExtensionGranted(at=at("2026-06-10 10:00"), days=15),
                   ExtensionGranted(at=at("2026-06-30 10:00"), days=30))

    def test_going_straight_past_30_days_needs_the_superiors_approval(self) -> None:
        with pytest.raises(ApproverNotAllowed):
            clocks("2026-06-01 10:00", ExtensionGranted(at=at("2026-06-10 10:00"), days=45))
        decision = clocks("2026-06-01 10:00",
                          ExtensionGranted(at=at("2026-06-10 10:00"), days=45,
                                           approver="superior_office"))["decision"]
        assert decision.days == 60

    def test_never_beyond_60_days(self) -> None:
        with pytest.raises(ExtensionRefused) as caught:
            clocks("2026-06-01 10:00",
                   ExtensionGranted(at=at("2026-06-10 10:00"), days=15),
                   ExtensionGranted(at=at("2026-06-30 10:00"), days=31,
                                    approver="superior_office"))
        error = caught.value
        assert (error.status, error.field) == (422, "days")
        assert error.message == ("an extension of 31 days would make the decision period 61 "
                                 "days; rule nfra_measures allows 60 days at most (30 granted "
                                 "so far)")

    def test_not_once_the_period_has_run_out(self) -> None:
        # The period ran out at 24:00 on Tuesday 16 Jun.
        with pytest.raises(ExtensionRefused) as caught:
            clocks("2026-06-01 10:00", ExtensionGranted(at=at("2026-06-17 09:00"), days=15))
        assert caught.value.field == "at"
        assert "ran out at 2026-06-17 00:00, before the extension" in caught.value.message

    def test_an_extension_adds_at_least_a_day(self) -> None:
        with pytest.raises(ExtensionRefused, match="at least one day"):
            clocks("2026-06-01 10:00", ExtensionGranted(at=at("2026-06-10 10:00"), days=0))

    def test_only_a_clock_the_case_has_can_be_extended(self) -> None:
        with pytest.raises(ExtensionRefused) as caught:
            clocks("2026-06-01 10:00", ExtensionGranted(at=at("2026-06-10 10:00"), days=15),
                   kind="praise")
        assert caught.value.field == "clock"
        with pytest.raises(ExtensionRefused, match="'response' is not a statutory clock"):
            clocks("2026-06-01 10:00", ExtensionGranted(at=at("2026-06-01 10:10"), days=1,
                                                        clock="response"))


class TestPauses:
    def test_an_outside_appraisal_is_not_counted(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                          PauseEnded(at=at("2026-06-12 10:00")))["decision"]
        # 15 + 7 days from 1 Jun: Tuesday 23 Jun.
        assert (decision.paused_days, decision.last_day) == (7, D(2026, 6, 23))
        (pause,) = decision.pauses
        assert (pause.reason, pause.days, pause.ended_at, pause.tell_customer) == (
            "appraisal", 7, at("2026-06-12 10:00"), True)
        assert decision.state is ClockState.running

    @pytest.mark.parametrize("reason", ["testing", "evaluation"])
    def test_nor_are_testing_and_evaluation(self, reason: str) -> None:
        decision = clocks("2026-06-01 10:00", PauseStarted(at=at("2026-06-05 10:00"),
                                                           reason=reason),
                          PauseEnded(at=at("2026-06-12 10:00")))["decision"]
        assert decision.last_day == D(2026, 6, 23)

    def test_a_pause_within_one_day_adds_no_day(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                          PauseEnded(at=at("2026-06-05 16:00")))["decision"]
        assert (decision.paused_days, decision.last_day) == (0, D(2026, 6, 16))

    def test_a_pause_under_way_holds_the_clock_and_warns_of_nothing(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                          now="2026-06-10 12:00")["decision"]
        # As if it resumed now: 15 + 5 days = Sunday 21 Jun (Dragon Boat), so Monday 22 Jun.
        assert (decision.state, decision.paused_days, decision.last_day) == (
            ClockState.paused, 5, D(2026, 6, 22))
        assert decision.warn_at == ()
        assert decision.pauses[0].ended_at is None

    def test_an_extension_may_be_granted_during_a_pause(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                          ExtensionGranted(at=at("2026-06-08 10:00"), days=15),
                          PauseEnded(at=at("2026-06-12 10:00")))["decision"]
        assert (decision.days, decision.paused_days, decision.last_day) == (30, 7,
                                                                            D(2026, 7, 8))

    def test_a_pause_reason_the_policy_does_not_know_is_refused(self) -> None:
        with pytest.raises(ClockEventInvalid) as caught:
            clocks("2026-06-01 10:00", PauseStarted(at=at("2026-06-05 10:00"), reason="audit"))
        assert caught.value.field == "reason"

    def test_a_pause_cannot_end_before_it_starts(self) -> None:
        with pytest.raises(ClockEventInvalid, match="had not started"):
            clocks("2026-06-01 10:00", PauseEnded(at=at("2026-06-05 10:00")))

    def test_pauses_do_not_overlap(self) -> None:
        with pytest.raises(ClockEventInvalid, match="while another was under way"):
            clocks("2026-06-01 10:00",
                   PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                   PauseStarted(at=at("2026-06-06 10:00"), reason="testing"))

    def test_a_period_that_has_run_out_cannot_be_paused(self) -> None:
        with pytest.raises(ClockEventInvalid, match="ran out at 2026-06-17 00:00"):
            clocks("2026-06-01 10:00",
                   PauseStarted(at=at("2026-06-17 10:00"), reason="appraisal"))


class TestWithdrawal:
    def test_stops_every_clock_the_day_it_arrives(self) -> None:
        result = clocks("2026-06-01 10:00", Withdrawn(at=at("2026-06-01 10:05")),
                        channel="hotline")
        assert {c.name: c.state for c in result} == {
            "decision": ClockState.stopped, "first_contact": ClockState.stopped,
            "response": ClockState.stopped, "solution": ClockState.stopped}
        assert all(c.ended_at == at("2026-06-01 10:05") and c.warn_at == () for c in result)

    def test_a_stopped_clock_is_never_overdue(self) -> None:
        decision = clocks("2026-06-01 10:00", Withdrawn(at=at("2026-06-05 10:00")))["decision"]
        assert not decision.overdue(at("2026-12-31 00:00"))

    def test_a_pause_under_way_is_counted_until_the_withdrawal(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                          Withdrawn(at=at("2026-06-08 10:00")),
                          now="2026-06-30 10:00")["decision"]
        assert decision.paused_days == 3

    def test_nothing_may_follow_it(self) -> None:
        with pytest.raises(ClockEventInvalid) as caught:
            clocks("2026-06-01 10:00", Withdrawn(at=at("2026-06-05 10:00")),
                   NewFacts(at=at("2026-06-06 10:00")))
        assert caught.value.field == "events"
        assert "follows the withdrawal" in caught.value.message


class TestNewFacts:
    def test_restart_the_period_from_the_day_they_arrive(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          ExtensionGranted(at=at("2026-06-10 10:00"), days=15),
                          NewFacts(at=at("2026-06-20 11:00")))["decision"]
        # 15 days from 20 Jun: Sunday 5 Jul, so Monday 6 Jul; the old extension is gone.
        assert (decision.started_at, decision.days, decision.last_day) == (
            at("2026-06-20 11:00"), 15, D(2026, 7, 6))
        assert decision.extensions == ()

    def test_an_appraisal_under_way_goes_on_counted_from_the_restart(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"),
                          NewFacts(at=at("2026-06-08 10:00")),
                          PauseEnded(at=at("2026-06-12 10:00")))["decision"]
        # 15 + 4 days from 8 Jun: Saturday 27 Jun, so Monday 29 Jun.
        assert (decision.paused_days, decision.last_day) == (4, D(2026, 6, 29))

    def test_reopen_a_decision_already_told(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          ClockMet(at=at("2026-06-10 10:00"), clock="decision"),
                          NewFacts(at=at("2026-06-12 10:00")))["decision"]
        assert (decision.state, decision.last_day) == (ClockState.running, D(2026, 6, 29))

    def test_do_not_move_the_banks_targets(self) -> None:
        result = clocks("2026-06-01 10:00", NewFacts(at=at("2026-06-01 10:30")))
        assert local(result["response"].due_at) == at("2026-06-01 11:00")


class TestPbocTransfer:
    def test_without_corrections_starts_at_receipt(self) -> None:
        decision = clocks("2026-06-01 10:00", origin="pboc")["decision"]
        assert (decision.rule, decision.last_day, decision.max_days) == (
            "pboc_transfer", D(2026, 6, 16), 60)

    def test_waits_while_the_customers_corrections_are_outstanding(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          CorrectionsRequested(at=at("2026-06-02 10:00")),
                          now="2026-06-30 10:00", origin="pboc")["decision"]
        assert (decision.state, decision.started_at, decision.last_day, decision.due_at) == (
            ClockState.waiting, None, None, None)
        assert decision.warn_at == ()
        assert not decision.overdue(at("2026-12-31 00:00"))

    def test_starts_when_the_corrections_are_complete(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          CorrectionsRequested(at=at("2026-06-02 10:00")),
                          CorrectionsCompleted(at=at("2026-06-10 09:00")),
                          origin="pboc")["decision"]
        assert (decision.state, decision.started_at, decision.last_day) == (
            ClockState.running, at("2026-06-10 09:00"), D(2026, 6, 25))

    def test_the_complaint_head_extends_it_to_60_days(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          CorrectionsCompleted(at=at("2026-06-10 09:00")),
                          ExtensionGranted(at=at("2026-06-20 09:00"), days=45,
                                           approver="complaint_head"),
                          origin="pboc")["decision"]
        # 60 days from 10 Jun: Sunday 9 Aug, so Monday 10 Aug.
        assert (decision.days, decision.last_day) == (60, D(2026, 8, 10))

    def test_nobody_else_may_extend_it(self) -> None:
        with pytest.raises(ApproverNotAllowed, match="complaint_head"):
            clocks("2026-06-01 10:00",
                   ExtensionGranted(at=at("2026-06-05 09:00"), days=15,
                                    approver="superior_office"), origin="pboc")

    def test_no_extension_before_it_starts(self) -> None:
        with pytest.raises(ExtensionRefused, match="corrections are outstanding"):
            clocks("2026-06-01 10:00", CorrectionsRequested(at=at("2026-06-02 10:00")),
                   ExtensionGranted(at=at("2026-06-05 09:00"), days=15,
                                    approver="complaint_head"), origin="pboc")

    def test_corrections_do_not_move_a_direct_complaints_start(self) -> None:
        decision = clocks("2026-06-01 10:00",
                          CorrectionsRequested(at=at("2026-06-02 10:00")),
                          CorrectionsCompleted(at=at("2026-06-10 09:00")))["decision"]
        assert (decision.state, decision.last_day) == (ClockState.running, D(2026, 6, 16))


class TestTargets:
    def test_a_hotline_complaint_gets_every_target(self) -> None:
        result = clocks("2026-09-22 15:30", channel="hotline")
        assert {c.name: local(c.due_at) for c in result if not c.statutory} == {
            "first_contact": at("2026-09-22 15:40"),
            "response": at("2026-09-22 16:30"),
            "solution": at("2026-09-23 15:30"),
        }
        assert result["solution"].last_day == D(2026, 9, 23)

    def test_a_suggestion_gets_its_feedback_answered_within_24_hours(self) -> None:
        result = clocks("2026-09-22 15:30", kind="suggestion")
        assert list(result.clocks) == ["decision", "feedback"]
        assert local(result["feedback"].due_at) == at("2026-09-23 15:30")

    def test_a_target_met_in_time(self) -> None:
        contact = clocks("2026-06-01 10:00", ClockMet(at=at("2026-06-01 10:07"),
                                                      clock="first_contact"),
                         channel="hotline")["first_contact"]
        assert (contact.state, contact.ended_at, contact.warn_at) == (
            ClockState.met, at("2026-06-01 10:07"), ())
        assert not contact.overdue(at("2026-06-02 10:00"))

    def test_a_target_met_late_was_overdue(self) -> None:
        contact = clocks("2026-06-01 10:00", ClockMet(at=at("2026-06-01 10:12"),
                                                      clock="first_contact"),
                         channel="hotline")["first_contact"]
        assert contact.overdue(at("2026-06-01 10:12"))

    def test_met_names_a_clock_of_the_policy(self) -> None:
        with pytest.raises(ClockEventInvalid) as caught:
            clocks("2026-06-01 10:00", ClockMet(at=at("2026-06-01 10:07"), clock="lunch"))
        assert caught.value.field == "clock"

    @pytest.mark.parametrize(("received", "due"), [
        ("2026-06-22 10:00", "2026-06-22 14:00"),  # within a working day
        ("2026-06-26 15:00", "2026-06-29 11:00"),  # Friday afternoon, across the weekend
        ("2026-09-30 16:00", "2026-10-08 12:00"),  # across the National Day holiday
        ("2026-10-09 15:00", "2026-10-10 11:00"),  # onto the adjusted working Saturday
        ("2026-06-27 20:00", "2026-06-29 13:00"),  # received on a Saturday evening
    ])
    def test_working_hours_count_only_business_hours_on_working_days(
        self, received: str, due: str
    ) -> None:
        response = clocks(received, policy=parse_policy(WORKING_HOURS_POLICY))["response"]
        assert response.unit is ClockUnit.working
        assert local(response.due_at) == at(due)

    def test_business_hours_come_from_the_policy(self) -> None:
        text = WORKING_HOURS_POLICY + 'business_hours: {start: "08:30", end: "17:30"}\n'
        response = clocks("2026-06-26 15:00", policy=parse_policy(text))["response"]
        # Friday 15:00-17:30 gives 2.5 hours; Monday from 08:30 the other 1.5.
        assert local(response.due_at) == at("2026-06-29 10:00")


class TestWarnings:
    def test_the_decision_warns_at_half_and_four_fifths_of_its_time(self) -> None:
        decision = clocks("2026-09-22 15:30")["decision"]
        # From 15:30 on 22 Sep to 24:00 on 8 Oct is 392.5 hours.
        assert [local(w) for w in decision.warn_at] == [at("2026-09-30 19:45"),
                                                        at("2026-10-05 17:30")]

    def test_a_working_hours_target_warns_in_working_hours(self) -> None:
        response = clocks("2026-06-26 15:00",
                          policy=parse_policy(WORKING_HOURS_POLICY))["response"]
        # Half of 4 working hours is Friday 17:00; four fifths is Monday 10:12.
        assert [local(w) for w in response.warn_at] == [at("2026-06-26 17:00"),
                                                        at("2026-06-29 10:12")]

    def test_warn_at_gives_any_fractions(self) -> None:
        policy = load_policy()
        response = clocks("2026-06-01 10:00")["response"]
        instants = warn_at(response, [0.25, 0.9], calendar=CALENDAR, tz=SHANGHAI,
                           hours=policy.business_hours)
        assert [local(w) for w in instants] == [at("2026-06-01 10:15"), at("2026-06-01 10:54")]

    def test_a_rule_may_set_its_own_fractions(self) -> None:
        text = WORKING_HOURS_POLICY.replace("unit: working", "unit: working\n"
                                                             "        warn_at: [0.75]")
        response = clocks("2026-06-22 10:00", policy=parse_policy(text))["response"]
        assert [local(w) for w in response.warn_at] == [at("2026-06-22 13:00")]


class TestEvents:
    def test_an_event_in_the_future_is_refused(self) -> None:
        with pytest.raises(ClockEventInvalid) as caught:
            clocks("2026-06-01 10:00", Withdrawn(at=at("2026-06-05 10:00")),
                   now="2026-06-02 10:00")
        assert (caught.value.field, isinstance(caught.value, Invalid)) == ("at", True)
        assert "has not happened yet" in caught.value.message

    def test_an_event_before_receipt_is_refused(self) -> None:
        with pytest.raises(ClockEventInvalid, match="before the case was received"):
            clocks("2026-06-01 10:00", Withdrawn(at=at("2026-05-31 10:00")))

    def test_times_need_their_time_zone(self) -> None:
        with pytest.raises(ClockEventInvalid) as caught:
            clocks("2026-06-01 10:00", Withdrawn(at=dt.datetime(2026, 6, 2, 10, 0)),
                   now="2026-06-03 10:00")
        assert caught.value.field == "at"
        with pytest.raises(ClockEventInvalid) as caught:
            compute_clocks(load_policy(), CaseFacts("complaint"), dt.datetime(2026, 6, 1),
                           now=at("2026-06-02 10:00"), tz=SHANGHAI, calendar=CALENDAR)
        assert caught.value.field == "received_at"

    def test_events_are_taken_in_time_order(self) -> None:
        later_first = clocks("2026-06-01 10:00",
                             PauseEnded(at=at("2026-06-12 10:00")),
                             PauseStarted(at=at("2026-06-05 10:00"), reason="appraisal"))
        assert later_first["decision"].last_day == D(2026, 6, 23)

    def test_the_same_input_gives_the_same_clocks(self) -> None:
        events = (ExtensionGranted(at=at("2026-06-10 10:00"), days=15),)
        assert clocks("2026-06-01 10:00", *events) == clocks("2026-06-01 10:00", *events)


class TestCalendarWarnings:
    def test_a_period_into_an_uncovered_year_says_so(self) -> None:
        result = clocks("2026-12-20 10:00")
        assert result["decision"].last_day == D(2027, 1, 4)
        (message,) = result.warnings
        assert message.startswith("2027: chinese-calendar does not cover this year")

    def test_a_period_within_covered_years_has_none(self) -> None:
        assert clocks("2026-09-22 15:30").warnings == ()
