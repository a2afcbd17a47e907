"""What the deadline engine refuses: bad policy or calendar files, and clock events the rules
do not allow."""

from __future__ import annotations

from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.core.yamlfile import YamlFileError


class PolicyError(YamlFileError):
    """An SLA policy file refused, with the line and reason of each problem."""

    code = "sla_policy_invalid"
    default_field = "sla_policy"


class CalendarFileError(YamlFileError):
    """A holiday calendar file refused, with the line and reason of each problem."""

    code = "calendar_invalid"
    default_field = "calendar"


class ClockEventInvalid(Invalid):
    """A clock event that cannot happen: in the future, before receipt, out of order."""

    code = "clock_event_invalid"


class ExtensionRefused(Invalid):
    """An extension the policy does not allow: beyond the maximum, late, or on no clock."""

    code = "extension_refused"


class ApproverNotAllowed(Forbidden):
    """An extension approved by someone the policy does not name for it."""

    code = "approver_not_allowed"
