"""Notification errors, all in the one hierarchy of bankvoc.core.errors."""

from __future__ import annotations

from bankvoc.core.errors import BankvocError, Invalid, NotFound


class UnknownTemplate(NotFound):
    code = "unknown_template"


class TemplateError(Invalid):
    """A template that cannot be rendered: a missing context variable, a bad value."""

    code = "template_error"


class DeliveryError(BankvocError):
    """An adapter could not deliver a message.

    `retryable` failures (a server down, a timeout, a 4xx SMTP or a 5xx HTTP answer) are tried
    again with back-off; permanent ones (an address refused, a 4xx HTTP answer) go straight to
    the dead letter. The message never carries the recipient's address or the body.
    """

    status = 502
    code = "delivery_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
