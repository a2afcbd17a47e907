"""`bankvoc sla ...`: the deadline calculator.

`bankvoc sla due --received "2026-09-22 15:30"` prints when each clock of a case received then
runs out under the configured policy and calendar. With --json the last line is one JSON object
with `<clock>_last_day` (YYYY-MM-DD) and `<clock>_due` (ISO 8601 with offset) for each clock and
`warnings` (e.g. a year counted by weekends only).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from bankvoc.cases.enums import CaseKind, Channel, Severity
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.settings import get_settings
from bankvoc.sla import service as sla_service
from bankvoc.sla.clocks import CaseClocks, Clock
from bankvoc.sla.enums import ClockUnit, Origin
from bankvoc.sla.policy import load_policy

sla_app = typer.Typer(help="Deadlines: statutory periods and the bank's own targets.",
                      no_args_is_help=True)

RECEIVED_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


@sla_app.callback()
def _sla() -> None:
    """Keeps `due` a sub-command even while it is the only one."""


def _received(value: str, tz: ZoneInfo) -> dt.datetime:
    for fmt in RECEIVED_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise typer.BadParameter(f"expected local time as YYYY-MM-DD HH:MM, got {value!r}",
                             param_hint="'--received'")


def _iso(at: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return None if at is None else at.astimezone(tz).isoformat()


def _length(clock: Clock) -> str:
    if clock.unit is ClockUnit.days:
        upto = (f" (up to {clock.max_days} with extensions)"
                if clock.max_days and clock.max_days != clock.days else "")
        return f"{clock.days} days{upto}"
    assert clock.allowance is not None
    minutes = int(clock.allowance.total_seconds() // 60)
    amount = f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
    return f"{amount} ({'working' if clock.unit is ClockUnit.working else 'calendar'} hours)"


def _payload(result: CaseClocks, *, tz: ZoneInfo, facts: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"received": _iso(result.received_at, tz), "timezone": str(tz),
                               **facts, "policy_version": result.policy_version,
                               "clocks": list(result.clocks)}
    for clock in result:
        payload[f"{clock.name}_last_day"] = (clock.last_day.isoformat()
                                             if clock.last_day else None)
        payload[f"{clock.name}_due"] = _iso(clock.due_at, tz)
        payload[f"{clock.name}_warn_at"] = [_iso(w, tz) for w in clock.warn_at]
        if clock.statutory:
            payload[f"{clock.name}_days"] = clock.days
            payload[f"{clock.name}_max_days"] = clock.max_days
    payload["warnings"] = list(result.warnings)
    return payload


@sla_app.command("due")
@handle_errors
def due_command(
    received: Annotated[str, typer.Option(
        "--received", help='When the case was received: local time "YYYY-MM-DD HH:MM" in '
                           "BANKVOC_TIMEZONE")],
    kind: Annotated[CaseKind, typer.Option("--kind", help="The kind of case")]
    = CaseKind.complaint,
    origin: Annotated[Origin, typer.Option("--origin", help="Who passed the case to the bank")]
    = Origin.direct,
    channel: Annotated[Channel | None, typer.Option(
        "--channel", help="The channel it came through (some targets depend on it)")] = None,
    severity: Annotated[Severity, typer.Option("--severity", help="Its severity")]
    = Severity.general,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """When each clock of a case received at --received runs out: the statutory decision period
    and the bank's own targets, under the configured policy and holiday calendar."""
    tz = get_settings().tz
    received_at = _received(received, tz)
    # A case just received: no event yet, so `now` is the receipt itself.
    result = sla_service.case_clocks(kind=kind.value, received_at=received_at,
                                     now=received_at, origin=origin.value,
                                     channel=channel.value if channel else None,
                                     severity=severity.value)
    facts = {"kind": kind.value, "origin": origin.value,
             "channel": channel.value if channel else None, "severity": severity.value}
    if as_json:
        emit_json(_payload(result, tz=tz, facts=facts))
        return
    policy = load_policy()
    typer.echo(f"received {received_at:%Y-%m-%d %H:%M} {tz}: {kind.value}, origin "
               f"{origin.value}, severity {severity.value}"
               + (f", channel {channel.value}" if channel else "")
               + f" (policy {result.policy_version})")
    if not result.clocks:
        typer.echo(f"no clock runs for a {kind.value}")
    for clock in result:
        due = clock.due_at.astimezone(tz) if clock.due_at else None
        warn = ", ".join(f"{w.astimezone(tz):%m-%d %H:%M}" for w in clock.warn_at)
        typer.echo(f"{clock.name:<14} last day {clock.last_day}  due "
                   f"{due:%Y-%m-%d %H:%M}  {_length(clock)}  {policy.label(clock.name, 'en')}"
                   + (f"; warn {warn}" if warn else ""))
    for message in result.warnings:
        typer.echo(f"warning: {message}")
