"""The expected failures of accounts: each names the field to fix, never a secret."""

from __future__ import annotations

from bankvoc.core.errors import BankvocError, Conflict, Forbidden, Invalid, Unauthorized


class PasswordRejected(Invalid):
    """A new password the policy refuses; `reason` names the rule (a `ui.auth.policy.*` key)."""

    code = "password_rejected"

    def __init__(self, message: str, *, reason: str, field: str = "password",
                 **params: object) -> None:
        super().__init__(message, field=field)
        self.reason = reason
        self.params = params


class LoginFailed(Unauthorized):
    """Wrong user name or password (never says which), or a user without log-in."""

    code = "login_failed"


class AccountLocked(Forbidden):
    """Too many failed log-ins for this user name: locked for a while."""

    code = "account_locked"
    status = 423


class TooManyAttempts(BankvocError):
    """Too many failed log-ins from this client address: wait a while."""

    code = "too_many_attempts"
    status = 429


class SessionInvalid(Unauthorized):
    """No session, or an expired or revoked one: log in again."""

    code = "session_invalid"


class CsrfRejected(Forbidden):
    """A form posted without this session's CSRF token (an old page, or another site)."""

    code = "csrf"


# --- the directory's administration (orgs.admin) ----------------------------------------------

class DirectoryRefused(BankvocError):
    """What the administration screens explain: `reason` names the rule (an `admin.why.*` key
    of the pages), `params` fill its text. Messages name fields, never personal data."""

    def __init__(self, message: str, *, reason: str, field: str | None = None,
                 **params: object) -> None:
        super().__init__(message, field=field)
        self.reason = reason
        self.params = params


class DirectoryInvalid(DirectoryRefused, Invalid):
    """A field's value breaks a rule (422)."""


class DirectoryConflict(DirectoryRefused, Conflict):
    """The directory's state refuses the change (409): a taken code, the last administrator."""


class DirectoryForbidden(DirectoryRefused, Forbidden):
    """The actor may not make this change (403): their own roles, a role beyond their own."""
