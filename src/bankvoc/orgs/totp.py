"""The TOTP second factor (RFC 6238) of the roles that hold the most: administrators and
consumer protection (`admin`, `cpo`).

Optional by default; `BANKVOC_TOTP_REQUIRED_ROLES` makes it compulsory for some roles (they
enrol at their next log-in, before any session is opened). The secret is encrypted with the
PII key ring; a code is accepted once (the last accepted time step is stored, so the same code
replayed within its window is refused); a step either side of now is allowed for clock drift.
Wrong codes at log-in count toward the account's lock-out like wrong passwords (`orgs.auth`).
Practice followed: RFC 6238 §5.2 (one step of drift, no reuse), NIST SP 800-63B §5.1.4.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from pyotp.utils import strings_equal
from sqlalchemy.orm import Session

from bankvoc.core.errors import ConfigurationError, Conflict, Forbidden, Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.crypto import KeyRing, keyring
from bankvoc.orgs import auth
from bankvoc.orgs.enums import Role
from bankvoc.orgs.models import User

ISSUER = "BankVOC"
# The roles that may enrol (and the only ones the setting may require it of).
ENROL_ROLES = frozenset({Role.admin.value, Role.cpo.value})
# Encryption context of the secret.
SECRET_FIELD = "totp_secret"
# Steps either side of now a code is still good for (30 s each).
DRIFT_STEPS = 1
# The code of a `CodeRejected` for an empty or malformed code (not a guess: not counted).
MALFORMED = "totp_malformed"


class CodeRejected(Invalid):
    """A missing, malformed, wrong or already used code (never says which of the last two)."""

    code = "totp_rejected"


@dataclass(frozen=True)
class Enrolment:
    """What the user copies into an authenticator app: the secret, its otpauth:// URI, and
    the URI as an SVG QR code (made here, no service asked)."""

    secret: str
    uri: str
    qr_svg: str


def _ring() -> KeyRing:
    return keyring(get_settings().effective_pii_key)


def required_roles() -> frozenset[str]:
    """The roles `BANKVOC_TOTP_REQUIRED_ROLES` names; only admin and cpo may be named."""
    names = {n.strip() for n in get_settings().totp_required_roles.split(",") if n.strip()}
    beyond = names - ENROL_ROLES
    if beyond:
        raise ConfigurationError(
            f"BANKVOC_TOTP_REQUIRED_ROLES names {', '.join(sorted(beyond))}: only "
            f"{', '.join(sorted(ENROL_ROLES))} use a second factor", field="totp_required_roles")
    return frozenset(names)


def may_enrol(user: User) -> bool:
    return bool(ENROL_ROLES & set(user.roles))


def enrolled(user: User) -> bool:
    return user.totp_confirmed_at is not None and user.totp_secret_enc is not None


def required(user: User) -> bool:
    """The user's roles must have a second factor and the user has none yet."""
    return not enrolled(user) and bool(required_roles() & set(user.roles))


def begin(session: Session, *, user: User) -> Enrolment:
    """Start (or show again) the enrolment of `user`: a new secret, or the one waiting for its
    first code, so that reloading the page does not change what was scanned."""
    del session  # the change is on the user row, flushed with the unit of work
    if not may_enrol(user):
        raise Forbidden("a second factor is for administrators and consumer protection",
                        field="roles")
    if enrolled(user):
        raise Conflict("a second factor is set up already: an administrator can reset it",
                       field="code")
    ring = _ring()
    if user.totp_secret_enc is None:
        user.totp_secret_enc = ring.encrypt(pyotp.random_base32(), field=SECRET_FIELD)
        user.totp_last_step = None
    secret = ring.decrypt(user.totp_secret_enc, field=SECRET_FIELD)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri,
                     qr_svg=segno.make(uri, error="m").svg_inline(scale=4, dark="#000",
                                                                  light="#fff"))


def _clean(code: str) -> str:
    digits = code.replace(" ", "").replace("-", "").strip()
    if not digits:
        raise CodeRejected("enter the 6-digit code of your authenticator app", field="code",
                           code=MALFORMED)
    if len(digits) != 6 or not digits.isdigit():
        raise CodeRejected("the code has 6 digits", field="code", code=MALFORMED)
    return digits


def _accept(user: User, code: str, now: datetime) -> bool:
    """Whether `code` is good now and newer than the last accepted one; notes its step."""
    if user.totp_secret_enc is None:
        return False
    totp = pyotp.TOTP(_ring().decrypt(user.totp_secret_enc, field=SECRET_FIELD))
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue  # used already, or older than a code that was: a replay
        if strings_equal(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def confirm(session: Session, *, user: User, code: str, client_ip: str | None = None,
            now: datetime | None = None) -> None:
    """The first code from the app completes the enrolment; `CodeRejected` otherwise."""
    if enrolled(user):
        raise Conflict("a second factor is set up already", field="code")
    if user.totp_secret_enc is None:
        raise Conflict("start the set-up first", field="code")
    now = now or utcnow()
    if not _accept(user, _clean(code), now):
        raise CodeRejected("the code is not right: check the app's clock and enter the "
                           "current code", field="code")
    user.totp_confirmed_at = now
    auth.audit(session, auth.Event.TOTP_ENROLLED, username=user.username, user_id=user.id,
               client_ip=client_ip, now=now)


def verify(user: User, *, code: str, now: datetime | None = None) -> bool:
    """Whether an enrolled user's code is good (and not used before); a malformed code is
    `CodeRejected`. The caller counts failures (`orgs.auth.second_factor`)."""
    return enrolled(user) and _accept(user, _clean(code), now or utcnow())


def reset(session: Session, *, user: User, by: str = "",
          now: datetime | None = None) -> bool:
    """Clear the user's second factor (lost phone); False when there was none."""
    had = user.totp_secret_enc is not None
    user.totp_secret_enc = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    auth.audit(session, auth.Event.TOTP_RESET, username=user.username, user_id=user.id,
               now=now or utcnow(), detail=f"by {by}" if by else "")
    return had
