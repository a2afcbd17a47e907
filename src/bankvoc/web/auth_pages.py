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

from bankvoc.api.deps import DbSession
from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.demo.service import DEMO_PASSWORD
from bankvoc.orgs import auth
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
HOME = "/cases"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


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
        done = auth.log_in(session, username=username, password=posted.get("password"),
                           client_ip=_client_ip(request))
    except BankvocError as exc:
        held = isinstance(exc, AccountLocked | TooManyAttempts)
        return _login_page(request, lab, nonce=nonce, status=exc.status, view=LoginView(
            next=next_url, username=username, code=exc.code, problem=_login_problem(exc, lab),
            field="" if held else "password", field_label="" if held else lab("auth.password")))
    _end_old_session(request, session)
    target = next_url or HOME
    if done.user.must_change_password:
        target = _with_next("/password", next_url)
    response = RedirectResponse(_root(request) + target, status_code=303)
    set_session_cookie(response, done.token)
    response.delete_cookie(LOGIN_COOKIE, path=f"{_root(request)}/login")
    return response


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

