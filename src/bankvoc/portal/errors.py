"""What the customer's page refuses, each with the field it is about."""

from __future__ import annotations

from bankvoc.core.errors import BankvocError, Invalid


class RateLimited(BankvocError):
    """Too many of one thing within the hour: try again later (a 429 page)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, action: str, minutes: int, field: str | None = None
                 ) -> None:
        super().__init__(message, field=field)
        self.action = action
        self.minutes = minutes


class PortalInvalid(Invalid):
    """A value of a form the page explains next to its field: `key` names the message
    (`ui.portal.error.<key>`), `params` fill it in."""

    code = "portal_invalid"

    def __init__(self, field: str, key: str, **params: object) -> None:
        super().__init__(f"{field}: {key}", field=field)
        self.key = key
        self.params = params


class PortalSessionEnded(BankvocError):
    """No live portal session: the customer asks for a code again."""

    status = 401
    code = "portal_session_ended"
