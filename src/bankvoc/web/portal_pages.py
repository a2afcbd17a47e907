"""The customer's own page under /portal: no account, routes only call `bankvoc.portal`.

Its forms carry a CSRF token bound to a random cookie (signed double submit: the token is an
HMAC of the cookie's value under the secret key, so another site can neither read nor forge
it). A code asked for lives in the challenge cookie, a right code opens the portal session
cookie; all of them HttpOnly, SameSite=Strict, path /portal, Secure over TLS. Refusals the
customer can act on are answered with the page again, the problem next to its field (and a
wrong code is committed, so that the tries count); a rate limit is a friendly 429 page. The
staff pages' log-in never applies here: these routes are PUBLIC in `api.access`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from bankvoc.api.deps import DbSession
from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.orgs import auth
from bankvoc.portal import evidence
from bankvoc.portal import service as portal
from bankvoc.portal.errors import PortalInvalid, PortalSessionEnded, RateLimited
from bankvoc.portal.evidence import Upload
from bankvoc.portal.view import case_view
from bankvoc.web.present import Labeller
from bankvoc.web.rendering import CSRF_FIELD, labeller, render

log = logging.getLogger("bankvoc.web.portal")

PREFIX = "/portal"
CSRF_COOKIE = "bankvoc_portal_csrf"
CHALLENGE_COOKIE = "bankvoc_portal_code"
SESSION_COOKIE = "bankvoc_portal_session"
FILED_COOKIE = "bankvoc_portal_filed"
FILED_MAX_AGE = 3600
# Text fields of a form, at most (the description is the longest).
FIELD_MAX_BYTES = 64 * 1024


def _cookie(name: str) -> str:
    """Over TLS the cookies take the `__Secure-` prefix (kept only if Secure)."""
    return f"__Secure-{name}" if get_settings().secure_cookies else name


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _set_cookie(response: Response, request: Request, name: str, value: str, *, path: str,
                max_age: int | None = None) -> None:
    response.set_cookie(_cookie(name), value, path=_root(request) + path, max_age=max_age,
                        httponly=True, samesite="strict", secure=get_settings().secure_cookies)


def _clear_cookie(response: Response, request: Request, name: str, *, path: str) -> None:
    response.delete_cookie(_cookie(name), path=_root(request) + path, httponly=True,
                           samesite="strict", secure=get_settings().secure_cookies)


# --- pages and their errors --------------------------------------------------------------------

def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200,
          page_url: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """A portal page, with the CSRF token of the browser's nonce (set when it has none)."""
    lab = labeller(request)
    nonce = request.cookies.get(_cookie(CSRF_COOKIE)) or secrets.token_urlsafe(24)
    response = render(request, f"portal/{name}", {
        **context, "csrf_token": auth.csrf_token("portal:" + nonce), "portal": PREFIX,
    }, lab=lab, who=None, status=status, page_url=page_url, headers=headers)
    _set_cookie(response, request, CSRF_COOKIE, nonce, path=PREFIX)
    return response


def _message(request: Request, *, title: str, text: str, status: int,
             headers: dict[str, str] | None = None, link: str = "") -> Response:
    return _page(request, "message.html", {"title": title, "text": text, "link": link},
                 status=status, headers=headers)


def portal_error(request: Request, exc: BankvocError) -> Response:
    """An expected failure as a portal page (never the staff frame, never a log-in)."""
    lab = labeller(request)
    if isinstance(exc, RateLimited):
        return _message(request, title=lab("portal.limited_title"),
                        text=lab(f"portal.limited.{exc.action}", minutes=exc.minutes),
                        status=429, headers={"Retry-After": str(exc.minutes * 60)})
    if isinstance(exc, PortalSessionEnded):
        response = _message(request, title=lab("portal.ended_title"),
                            text=lab("portal.ended_text"), status=401, link="track")
        _clear_cookie(response, request, SESSION_COOKIE, path=PREFIX)
        return response
    status = exc.status if 400 <= exc.status < 500 else 503 if exc.status == 503 else 500
    return _message(request, title=lab("portal.error_title"), text=lab("portal.error_text"),
                    status=status)


class PortalRoute(APIRoute):
    """A portal route: an expected failure (its dependencies' too) becomes a portal page; the
    unit of work has rolled back by then."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, RequestValidationError):
                raise
            except BankvocError as exc:
                return portal_error(request, exc)
            except Exception as exc:
                # The type only: messages of unexpected errors may carry personal data.
                log.error("portal page %s failed: %s", request.url.path, type(exc).__name__)
                return portal_error(request, BankvocError("internal error", code="internal",
                                                          status=500))

        return portal_handler


router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)


# --- posted forms ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    """A posted portal form: its text fields (the first of each name), its files, whether its
    CSRF token is right, and a problem with the form as a whole."""

    values: dict[str, str]
    uploads: list[Upload] = field(default_factory=list)
    csrf_ok: bool = False
    problem: PortalInvalid | None = None


async def submitted(request: Request) -> Submitted:
    settings = get_settings()
    most = settings.portal_max_files * evidence.max_bytes() + 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        return Submitted({}, problem=PortalInvalid(evidence.FIELD, "form"))
    try:
        form = await request.form(max_files=settings.portal_max_files + 1, max_fields=40,
                                  max_part_size=FIELD_MAX_BYTES)
    except HTTPException:
        return Submitted({}, problem=PortalInvalid(evidence.FIELD, "form"))
    values: dict[str, str] = {}
    uploads = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(name, value)
        elif isinstance(value, UploadFile) and value.filename and name == evidence.FIELD:
            uploads.append(Upload(value.filename, await value.read(evidence.max_bytes() + 1)))
    nonce = request.cookies.get(_cookie(CSRF_COOKIE), "")
    ok = bool(nonce) and auth.csrf_matches(auth.csrf_token("portal:" + nonce),
                                           values.pop(CSRF_FIELD, ""))
    return Submitted(values, uploads, ok)


Form = Annotated[Submitted, Depends(submitted)]


def _stale_form(request: Request) -> Response:
    lab = labeller(request)
    return _message(request, title=lab("portal.csrf_title"), text=lab("portal.csrf_text"),
                    status=403)


@dataclass(frozen=True)
class Problem:
    field: str
    label: str
    message: str


def _problems(found: list[PortalInvalid], lab: Labeller,
              labels: dict[str, str]) -> list[Problem]:
    return [Problem(p.field or "", lab(labels.get(p.field or "", "portal.text")),
                    lab(f"portal.error.{p.key}", **p.params)) for p in found]


def _errors(problems: list[Problem]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in problems:
        errors[problem.field] = (errors[problem.field] + "；" + problem.message
                                 if problem.field in errors else problem.message)
    return errors


# --- home ----------------------------------------------------------------------------------------

@router.get("")
def home(request: Request) -> Response:
    """Where a customer starts: file something, or follow a case."""
    return _page(request, "home.html", {})


# --- filing --------------------------------------------------------------------------------------

FILING_LABELS = {"kind": "portal.kind", "name": "portal.name", "phone": "portal.phone",
                 "email": "portal.email", "org": "portal.org", "product": "portal.product",
                 "amount": "portal.amount", "text": "portal.text",
                 "evidence": "portal.evidence", "consent": "portal.consent_legend"}


def _filing_page(request: Request, session: DbSession, *, values: dict[str, str],
                 problems: list[Problem] | None = None, status: int = 200) -> Response:
    settings = get_settings()
    values = {"kind": "complaint", "submission": portal.new_submission(), **values}
    return _page(request, "new.html", {
        "values": values, "problems": problems or [], "errors": _errors(problems or []),
        "orgs": portal.org_choices(session), "products": portal.product_choices(),
        "kinds": portal.KINDS, "text_min": portal.TEXT_MIN, "text_max": portal.text_max(),
        "name_max": portal.NAME_MAX, "max_files": settings.portal_max_files,
        "max_mb": f"{evidence.max_bytes() / 1024 / 1024:.0f}", "file_kinds": evidence.KINDS,
    }, status=status, page_url=f"{_root(request)}{PREFIX}/complaints/new")


@router.get("/complaints/new")
def filing_form(request: Request, session: DbSession) -> Response:
    """The form: kind, name, mobile, e-mail, outlet, product, amount, what happened, evidence
    and the consent to the processing of personal data."""
    kind = request.query_params.get("kind", "")
    return _filing_page(request, session, values={"kind": kind} if kind in portal.KINDS else {})


@router.post("/complaints/new")
def file_complaint(request: Request, session: DbSession, form: Form) -> Response:
    """File it: 303 to the confirmation with the reference; else the form again with each
    problem by its field (422), or the 429 page past the limit of filings."""
    if not form.csrf_ok:
        return _stale_form(request)
    lab = labeller(request)
    values = {k: v for k, v in form.values.items() if k != "consent"}
    found = [form.problem] if form.problem else []
    filing = None
    if not found:
        filing, found = portal.read_filing(session, values=form.values, uploads=form.uploads)
    if filing is not None:
        try:
            filed = portal.file_case(session, filing=filing, uploads=form.uploads,
                                     client_ip=_client_ip(request), language=lab.lang)
        except PortalInvalid as exc:
            found = [exc]
        else:
            response = RedirectResponse(
                f"{_root(request)}{PREFIX}/complaints/{quote(filed.reference)}",
                status_code=303)
            _set_cookie(response, request, FILED_COOKIE, portal.filed_proof(filed.reference),
                        path=f"{PREFIX}/complaints", max_age=FILED_MAX_AGE)
            return response
    return _filing_page(request, session, values=values, status=422,
                        problems=_problems(found, lab, FILING_LABELS))


@router.get("/complaints/{reference}")
def filed(request: Request, reference: str, session: DbSession) -> Response:
    """The confirmation with the reference, in the browser that filed it only; elsewhere the
    same "not here" page whether the reference exists or not."""
    lab = labeller(request)
    proven = portal.filed_reference(request.cookies.get(_cookie(FILED_COOKIE)))
    found = portal.receipt(session, reference=reference) if proven == reference else None
    if found is None:
        return _message(request, title=lab("portal.filed_unknown_title"),
                        text=lab("portal.filed_unknown"), status=404, link="track")
    return _page(request, "filed.html", {"receipt": found})


# --- following a case ----------------------------------------------------------------------------

TRACK_LABELS = {"reference": "portal.reference", "phone": "portal.phone", "via": "portal.via",
                "code": "portal.code"}


def _track_page(request: Request, *, values: dict[str, str], problems: list[Problem],
                status: int = 200) -> Response:
    return _page(request, "track.html", {"values": values, "problems": problems,
                                         "errors": _errors(problems)},
                 status=status, page_url=f"{_root(request)}{PREFIX}/track")


@router.get("/track")
def track_form(request: Request) -> Response:
    """Reference and mobile number, to be sent a one-time code."""
    return _track_page(request, values={}, problems=[])


@router.post("/track")
def request_code(request: Request, session: DbSession, form: Form) -> Response:
    """Ask for a code: 303 to the code form, which says a code was sent if the details are
    right (the same answer whether they are or not); a malformed field is shown by its field
    (422); too many requests are the 429 page."""
    if not form.csrf_ok:
        return _stale_form(request)
    lab = labeller(request)
    asked, found = portal.read_tracking(form.values)
    if asked is None:
        return _track_page(request, values=form.values, status=422,
                           problems=_problems(found, lab, TRACK_LABELS))
    reference, phone, via = asked
    token = portal.request_code(session, reference=reference, phone=phone, via=via,
                                client_ip=_client_ip(request), language=lab.lang)
    response = RedirectResponse(f"{_root(request)}{PREFIX}/track/code", status_code=303)
    _set_cookie(response, request, CHALLENGE_COOKIE, token, path=f"{PREFIX}/track",
                max_age=get_settings().portal_code_minutes * 60)
    return response


def _code_page(request: Request, *, problems: list[Problem], status: int = 200) -> Response:
    return _page(request, "code.html", {
        "problems": problems, "errors": _errors(problems),
        "minutes": get_settings().portal_code_minutes,
    }, status=status, page_url=f"{_root(request)}{PREFIX}/track/code")


@router.get("/track/code")
def code_form(request: Request) -> Response:
    """The six digits of the code sent (if the details were right)."""
    return _code_page(request, problems=[])


@router.post("/track/code")
def check_code(request: Request, session: DbSession, form: Form) -> Response:
    """Check the code: 303 to the case page with a portal session; else the form again saying
    why (422; the try is counted and committed), or the 429 page after too many wrong codes."""
    if not form.csrf_ok:
        return _stale_form(request)
    lab = labeller(request)
    try:
        result = portal.check_code(session, token=request.cookies.get(_cookie(CHALLENGE_COOKIE)),
                                   code=form.values.get("code", ""),
                                   client_ip=_client_ip(request))
    except PortalInvalid as exc:
        return _code_page(request, status=422, problems=_problems([exc], lab, TRACK_LABELS))
    if not result.ok or result.session_token is None:
        problem = PortalInvalid("code", result.reason, left=result.attempts_left)
        return _code_page(request, status=422, problems=_problems([problem], lab, TRACK_LABELS))
    response = RedirectResponse(f"{_root(request)}{PREFIX}/case", status_code=303)
    _set_cookie(response, request, SESSION_COOKIE, result.session_token, path=PREFIX,
                max_age=get_settings().portal_session_minutes * 60)
    _clear_cookie(response, request, CHALLENGE_COOKIE, path=f"{PREFIX}/track")
    return response


# --- the customer's case -------------------------------------------------------------------------

def _case_page(request: Request, session: DbSession, *, problems: list[Problem] | None = None,
               text: str = "", status: int = 200) -> Response:
    token = request.cookies.get(_cookie(SESSION_COOKIE))
    row = portal.resolve_session(session, token=token)
    return _page(request, "case.html", {
        "case": case_view(session, portal_session=row), "problems": problems or [],
        "errors": _errors(problems or []), "text": text,
        "done": request.query_params.get("done") == "1",
        "max_files": get_settings().portal_max_files, "file_kinds": evidence.KINDS,
        "max_mb": f"{evidence.max_bytes() / 1024 / 1024:.0f}",
        "supplement_max": portal.SUPPLEMENT_MAX,
    }, status=status, page_url=f"{_root(request)}{PREFIX}/case")


@router.get("/case")
def case_page(request: Request, session: DbSession) -> Response:
    """The one case of the portal session: its stage, dates, deadline, the decision, what
    happened, and a form to add information; an ended session asks for a new code."""
    if not request.cookies.get(_cookie(SESSION_COOKIE)):
        return RedirectResponse(f"{_root(request)}{PREFIX}/track", status_code=303)
    return _case_page(request, session)


SUPPLEMENT_LABELS = {"text": "portal.supplement_text", "evidence": "portal.evidence"}


@router.post("/case/supplement")
def add_supplement(request: Request, session: DbSession, form: Form) -> Response:
    """Add words and files to the case: 303 to the case page, which thanks the customer; else
    the case page with the problem by its field (422)."""
    if not form.csrf_ok:
        return _stale_form(request)
    lab = labeller(request)
    row = portal.resolve_session(session, token=request.cookies.get(_cookie(SESSION_COOKIE)))
    text, found = portal.read_supplement(form.values, form.uploads)
    if form.problem:
        found = [form.problem]
    if not found:
        try:
            portal.add_supplement(session, portal_session=row, text=text, uploads=form.uploads)
        except PortalInvalid as exc:
            found = [exc]
        else:
            return RedirectResponse(f"{_root(request)}{PREFIX}/case?done=1#supplement",
                                    status_code=303)
    return _case_page(request, session, status=422, text=form.values.get("text", ""),
                      problems=_problems(found, lab, SUPPLEMENT_LABELS))


@router.post("/case/leave")
def leave(request: Request, session: DbSession, form: Form) -> Response:
    """End the portal session (on a shared phone or computer)."""
    if not form.csrf_ok:
        return _stale_form(request)
    portal.end_session(session, token=request.cookies.get(_cookie(SESSION_COOKIE)))
    lab = labeller(request)
    response = _message(request, title=lab("portal.left"), text="", status=200, link="home")
    _clear_cookie(response, request, SESSION_COOKIE, path=PREFIX)
    return response
