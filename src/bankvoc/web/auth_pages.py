"""The log-in, log-out and password pages. Routes only call `bankvoc.orgs.auth`.

A refused log-in is answered with the form again (never raised), so the unit of work commits
the failure it recorded: that is what the throttling and the lock-out count. The log-in form
carries its own CSRF token, bound to a random cookie set with the form (a site cannot log a
visitor into its own account here); the other forms carry the session's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from bankvoc.api.deps import DbSession, client_address
from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.demo.service import DEMO_PASSWORD
from bankvoc.orgs import auth, totp
from bankvoc.orgs.errors import (
    AccountLocked,
    PasswordRejected,
    SessionInvalid,
    TooManyAttempts,
)
from bankvoc.orgs.models import User, UserSession
from bankvoc.web.forms import Posted
from bankvoc.web.present import Labeller
from bankvoc.web.rendering import (
    CSRF_FIELD,
    CurrentViewer,
    Lab,
    PageRoute,
    PostedForm,
    SessionViewer,
    Viewer,
    clear_session_cookie,
    render,
    safe_next,
    session_cookie_name,
    set_session_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The log-in form's CSRF cookie: a random value the form's token is bound to.
LOGIN_COOKIE = "bankvoc_login"
# Between the password and the second factor's code: who passed the password, until when.
SECOND_STEP_COOKIE = "bankvoc_2fa"
HOME = "/cases"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _client_ip(request: Request) -> str | None:
    return client_address(request)


def _with_next(url: str, next_url: str | None) -> str:
    return url + (f"?{urlencode({'next': next_url})}" if next_url else "")


async def raw_form(request: Request) -> Posted:
    """A posted form's text fields, for the log-in form (which has no session yet)."""
    form = await request.form()
    return Posted(tuple((k, v) for k, v in form.multi_items() if isinstance(v, str)))


RawForm = Annotated[Posted, Depends(raw_form)]


# --- log-in ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginView:
    next: str
    username: str = ""
    problem: str = ""
    code: str = ""
    field: str = ""
    field_label: str = ""
    demo_password: str = ""


def _login_page(request: Request, lab: Labeller, *, nonce: str, view: LoginView,
                status: int = 200) -> Response:
    if get_settings().demo:
        view = replace(view, demo_password=DEMO_PASSWORD)
    response = render(request, "login.html",
                      {"view": view, "csrf_token": auth.csrf_token("login:" + nonce),
                       "bare": True},
                      lab=lab, who=None, status=status)
    response.set_cookie(LOGIN_COOKIE, nonce, path=f"{_root(request)}/login", httponly=True,
                        samesite="strict", secure=get_settings().secure_cookies)
    return response


def _live_session(request: Request, session: DbSession) -> bool:
    token = request.cookies.get(session_cookie_name())
    if not token:
        return False
    try:
        found = auth.resolve_session(session, token=token)
    except SessionInvalid:
        return False
    return not found.user.must_change_password


@router.get("/login")
def login_form(request: Request, session: DbSession, lab: Lab) -> Response:
    """The log-in form; someone logged in already goes straight on."""
    next_url = safe_next(request.query_params.get("next")) or ""
    if _live_session(request, session):
        return RedirectResponse(_root(request) + (next_url or HOME), status_code=303)
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    return _login_page(request, lab, nonce=nonce, view=LoginView(next=next_url))


@router.post("/login")
def log_in(request: Request, session: DbSession, lab: Lab, posted: RawForm) -> Response:
    """Log in: 303 to where the user was going (to the password page first for an initial
    password); else the form again saying what to fix (401 wrong name or password, 423
    locked, 429 throttled, 422 a field left empty, 403 a stale form)."""
    next_url = safe_next(posted.get("next")) or ""
    username = posted.get("username").strip()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    fresh = secrets.token_urlsafe(24)
    if not nonce or not auth.csrf_matches(auth.csrf_token("login:" + nonce),
                                          posted.get(CSRF_FIELD)):
        return _login_page(request, lab, nonce=nonce or fresh, status=403, view=LoginView(
            next=next_url, username=username, problem=lab("error.csrf_text"), code="csrf"))
    for name in ("username", "password"):
        if not posted.get(name).strip():
            return _login_page(request, lab, nonce=nonce, status=422, view=LoginView(
                next=next_url, username=username, field=name, field_label=lab(f"auth.{name}"),
                code="missing", problem=lab("auth.missing", field=lab(f"auth.{name}"))))
    try:
        user = auth.check_password(session, username=username, password=posted.get("password"),
                                   client_ip=_client_ip(request))
    except BankvocError as exc:
        held = isinstance(exc, AccountLocked | TooManyAttempts)
        return _login_page(request, lab, nonce=nonce, status=exc.status, view=LoginView(
            next=next_url, username=username, code=exc.code, problem=_login_problem(exc, lab),
            field="" if held else "password", field_label="" if held else lab("auth.password")))
    if totp.enrolled(user) or totp.required(user):
        response = _code_page(request, session, lab, user=user, nonce=nonce,
                              view=CodeView(next=next_url))
        response.set_cookie(SECOND_STEP_COOKIE, auth.second_step_token(user),
                            path=f"{_root(request)}/login",
                            max_age=auth.SECOND_STEP_MINUTES * 60, httponly=True,
                            samesite="strict", secure=get_settings().secure_cookies)
        return response
    return _logged_in(request, session, user=user, next_url=next_url)


def _logged_in(request: Request, session: DbSession, *, user: User,
               next_url: str) -> Response:
    """Every step passed: the session opens, and on to where the user was going (to the
    password page first for an initial password)."""
    _end_old_session(request, session)
    done = auth.complete_log_in(session, user=user, client_ip=_client_ip(request))
    target = next_url or HOME
    if done.user.must_change_password:
        target = _with_next("/password", next_url)
    response = RedirectResponse(_root(request) + target, status_code=303)
    set_session_cookie(response, done.token)
    response.delete_cookie(LOGIN_COOKIE, path=f"{_root(request)}/login")
    response.delete_cookie(SECOND_STEP_COOKIE, path=f"{_root(request)}/login")
    return response


# --- the second factor at log-in ---------------------------------------------------------------

@dataclass(frozen=True)
class CodeView:
    next: str
    problem: str = ""
    code: str = ""
    # Set when the user's role requires a second factor they have not set up: set it up now.
    enrolment: totp.Enrolment | None = None


def _code_page(request: Request, session: DbSession, lab: Labeller, *, user: User, nonce: str,
               view: CodeView, status: int = 200) -> Response:
    if not totp.enrolled(user):
        view = replace(view, enrolment=totp.begin(session, user=user))
    return render(request, "login_code.html",
                  {"view": view, "csrf_token": auth.csrf_token("login:" + nonce), "bare": True},
                  lab=lab, who=None, status=status)


@router.post("/login/code")
def log_in_code(request: Request, session: DbSession, lab: Lab, posted: RawForm) -> Response:
    """The second step: the code of the user's authenticator app (set up there and then when
    the role requires it). 303 on as after a password; else the form again (401 a wrong code,
    counted toward the lock-out; 422 a malformed one), or the log-in form when the first step
    is stale (start again) or the account got locked."""
    next_url = safe_next(posted.get("next")) or ""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not auth.csrf_matches(auth.csrf_token("login:" + nonce),
                                          posted.get(CSRF_FIELD)):
        return _login_page(request, lab, nonce=nonce or secrets.token_urlsafe(24), status=403,
                           view=LoginView(next=next_url, problem=lab("error.csrf_text"),
                                          code="csrf"))
    try:
        user = auth.second_step_user(session,
                                     token=request.cookies.get(SECOND_STEP_COOKIE, ""))
    except SessionInvalid as exc:
        return _login_page(request, lab, nonce=nonce, status=exc.status, view=LoginView(
            next=next_url, code=exc.code, problem=lab("auth.totp_restart")))
    ip = _client_ip(request)
    try:
        auth.check_not_held(session, username=user.username, client_ip=ip, now=utcnow())
        _second_factor(session, user=user, code=posted.get("code"), client_ip=ip)
    except totp.CodeRejected as exc:
        status = exc.status if exc.code == totp.MALFORMED else 401  # a wrong code: 401
        return _code_page(request, session, lab, user=user, nonce=nonce, status=status,
                          view=CodeView(next=next_url, code=exc.code,
                                        problem=lab(f"auth.{exc.code}")))
    except (AccountLocked, TooManyAttempts) as exc:
        response = _login_page(request, lab, nonce=nonce, status=exc.status, view=LoginView(
            next=next_url, username=user.username, code=exc.code,
            problem=_login_problem(exc, lab)))
        response.delete_cookie(SECOND_STEP_COOKIE, path=f"{_root(request)}/login")
        return response
    return _logged_in(request, session, user=user, next_url=next_url)


def _second_factor(session: DbSession, *, user: User, code: str, client_ip: str | None) -> None:
    """Check the code (or confirm the set-up the role requires); a wrong one is counted
    toward the lock-out (`AccountLocked` at the limit), then `CodeRejected`."""
    try:
        if totp.enrolled(user):
            if not totp.verify(user, code=code):
                raise totp.CodeRejected("the code is not right", field="code")
        else:
            totp.confirm(session, user=user, code=code, client_ip=client_ip)
    except totp.CodeRejected as exc:
        if exc.code != totp.MALFORMED:
            auth.second_factor_failed(session, user=user, client_ip=client_ip)
        raise


def _login_problem(exc: BankvocError, lab: Labeller) -> str:
    if isinstance(exc, AccountLocked):
        return lab("auth.locked", minutes=get_settings().login_lockout_minutes)
    if isinstance(exc, TooManyAttempts):
        return lab("auth.throttled")
    return lab("auth.failed")


def _end_old_session(request: Request, session: DbSession) -> None:
    """A log-in replaces the browser's previous session, if it had one."""
    token = request.cookies.get(session_cookie_name())
    if not token:
        return
    try:
        old = auth.resolve_session(session, token=token)
    except SessionInvalid:
        return
    auth.log_out(session, user_session=old, client_ip=_client_ip(request))


# --- log-out -----------------------------------------------------------------------------------

@router.post("/logout")
def log_out(request: Request, session: DbSession, who: SessionViewer,
            posted: PostedForm) -> Response:
    """End this session (a posted form with the session's CSRF token); back to log-in."""
    del posted  # its CSRF token is checked
    current = session.get(UserSession, who.session_id) if who.session_id is not None else None
    if current is not None:
        auth.log_out(session, user_session=current, client_ip=_client_ip(request))
    response = RedirectResponse(f"{_root(request)}/login", status_code=303)
    clear_session_cookie(response)
    return response


# --- password ----------------------------------------------------------------------------------

PASSWORD_FIELDS = (("current_password", "current-password"), ("new_password", "new-password"),
                   ("new_password_again", "new-password"))


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    autocomplete: str
    error: str = ""


@dataclass(frozen=True)
class Problem:
    field: str
    label: str
    message: str


@dataclass(frozen=True)
class PasswordView:
    username: str
    next: str
    forced: bool
    min_length: int
    fields: list[FieldView]
    changed: bool = False
    problems: list[Problem] = field(default_factory=list)


def _view(session: DbSession, who: Viewer, lab: Labeller, *, next_url: str,
          changed: bool = False, problems: list[Problem] | None = None) -> PasswordView:
    user = session.get(User, who.actor.user_id)
    assert user is not None
    errors = {p.field: p.message for p in problems or []}
    return PasswordView(
        username=user.username, next=next_url, forced=user.must_change_password,
        min_length=get_settings().password_min_length, changed=changed,
        problems=problems or [],
        fields=[FieldView(name=name, label=lab(f"auth.{name}"), autocomplete=complete,
                          error=errors.get(name, "")) for name, complete in PASSWORD_FIELDS])


@router.get("/password")
def password_form(request: Request, session: DbSession, who: SessionViewer,
                  lab: Lab) -> Response:
    """Change one's password (the first page after log-in while the password is an initial
    one); `?changed=1` says it was changed."""
    next_url = safe_next(request.query_params.get("next")) or ""
    changed = request.query_params.get("changed") == "1"
    view = _view(session, who, lab, next_url=next_url, changed=changed)
    return render(request, "password.html", {"view": view}, lab=lab, who=who)


@router.post("/password")
def change_password(request: Request, session: DbSession, who: SessionViewer, lab: Lab,
                    posted: PostedForm) -> Response:
    """Change the password: 303 to where the user was going (or to this page, which says so),
    the user's other sessions ended; else the form again with what to fix by each field."""
    next_url = safe_next(posted.get("next")) or ""
    problems = _password_problems(posted, lab)
    user = session.get(User, who.actor.user_id)
    assert user is not None
    if not problems:
        try:
            auth.change_password(session, user=user, current=posted.get("current_password"),
                                 new=posted.get("new_password"),
                                 keep_session_id=who.session_id, client_ip=_client_ip(request))
        except PasswordRejected as exc:
            name = exc.field or "new_password"
            problems = [Problem(field=name, label=lab(f"auth.{name}"),
                                message=lab(f"auth.policy.{exc.reason}", **exc.params))]
    if problems:
        view = _view(session, who, lab, next_url=next_url, problems=problems)
        return render(request, "password.html", {"view": view}, lab=lab, who=who, status=422)
    target = next_url or "/password?changed=1"
    return RedirectResponse(_root(request) + target, status_code=303)


def _password_problems(posted: Posted, lab: Labeller) -> list[Problem]:
    problems = []
    for name, _complete in PASSWORD_FIELDS:
        if not posted.get(name):
            problems.append(Problem(field=name, label=lab(f"auth.{name}"),
                                    message=lab("auth.policy.empty")))
    if not problems and posted.get("new_password") != posted.get("new_password_again"):
        problems.append(Problem(field="new_password_again",
                                label=lab("auth.new_password_again"),
                                message=lab("auth.policy.mismatch")))
    return problems



# --- the second factor: one's own set-up -------------------------------------------------------

@dataclass(frozen=True)
class TotpView:
    # "unavailable" (a role without it), "token" (a bearer caller: log in to set it up),
    # "enrolled", or "enrol" (the set-up form).
    state: str
    enrolled_at: str = ""
    enrolment: totp.Enrolment | None = None
    problem: str = ""
    done: bool = False


def _totp_view(session: DbSession, who: Viewer, *, problem: str = "",
               done: bool = False) -> TotpView:
    user = session.get(User, who.actor.user_id)
    assert user is not None
    if not totp.may_enrol(user):
        return TotpView(state="unavailable")
    if totp.enrolled(user):
        assert user.totp_confirmed_at is not None
        moment = user.totp_confirmed_at.astimezone(get_settings().tz)
        return TotpView(state="enrolled", enrolled_at=f"{moment:%Y-%m-%d %H:%M}", done=done)
    if who.session_id is None:
        return TotpView(state="token")
    return TotpView(state="enrol", enrolment=totp.begin(session, user=user), problem=problem)


@router.get("/account/totp")
def totp_form(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """One's second factor: its state, or the set-up (QR code, secret and a first code) for
    administrators and consumer protection logged in with their password."""
    view = _totp_view(session, who, done=request.query_params.get("done") == "1")
    return render(request, "totp.html", {"view": view}, lab=lab, who=who)


@router.post("/account/totp")
def totp_confirm(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                 posted: PostedForm) -> Response:
    """Confirm the set-up with the app's first code: 303 to the page saying it is done; else
    the page again (422 a wrong or malformed code, 409 nothing to set up)."""
    view = _totp_view(session, who)
    if view.state != "enrol":
        return render(request, "totp.html", {"view": view}, lab=lab, who=who, status=409)
    user = session.get(User, who.actor.user_id)
    assert user is not None
    try:
        totp.confirm(session, user=user, code=posted.get("code"),
                     client_ip=_client_ip(request))
    except totp.CodeRejected as exc:
        view = _totp_view(session, who, problem=lab(f"auth.{exc.code}"))
        return render(request, "totp.html", {"view": view}, lab=lab, who=who, status=422)
    return RedirectResponse(f"{_root(request)}/account/totp?done=1", status_code=303)
