"""Rendering pages: templates, language, who is looking, security headers, error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException

from bankvoc import __version__
from bankvoc.api.deps import DbSession
from bankvoc.api.errors import RETRY_AFTER_SECONDS
from bankvoc.core.db import database_unavailable
from bankvoc.core.errors import BankvocError, Unauthorized, Unavailable
from bankvoc.core.i18n import LANGS, Lang, pick_lang
from bankvoc.core.settings import get_settings
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.errors import CsrfRejected, SessionInvalid
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import Posted
from bankvoc.web.present import Labeller

log = logging.getLogger("bankvoc.web")

HERE = Path(__file__).parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# Pages load nothing from anywhere else, and run no inline script: the charts' scripts are
# static files (ECharts from /static/vendor, installed from npm at set-up), their data JSON
# blocks in the page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR),
                      autoescape=select_autoescape(("html",), default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env)


# --- language --------------------------------------------------------------------------------

def asked_lang(request: Request) -> Lang | None:
    """The language chosen by `?lang=` on this request, if a known one."""
    value = request.query_params.get("lang", "")
    return "en" if value == "en" else "zh" if value == "zh" else None


def request_lang(request: Request) -> Lang:
    """`?lang=` first, then the `lang` cookie; Chinese by default."""
    return asked_lang(request) or pick_lang(request.cookies.get(LANG_COOKIE))


def labeller(request: Request) -> Labeller:
    return Labeller(lang=request_lang(request), tz=get_settings().tz, taxonomy=load_taxonomy())


Lab = Annotated[Labeller, Depends(labeller)]


def switch_url(request: Request, lang: Lang, page_url: str | None = None) -> str:
    """This page in the other language; `page_url` is the page's own address when the request
    was a form post (whose address shows no page)."""
    other = next(code for code in LANGS if code != lang)
    if page_url is None:
        path, items = request.url.path, request.query_params.multi_items()
    else:
        path, _, query = page_url.partition("?")
        items = parse_qsl(query)
    query_items = [(k, v) for k, v in items if k != "lang"]
    return f"{path}?{urlencode([*query_items, ('lang', other)])}"


# --- who is looking --------------------------------------------------------------------------

SESSION_COOKIE = "bankvoc_session"
# Over TLS the cookie takes the `__Host-` prefix: the browser then keeps it only if it is
# Secure, for this host alone and for path=/ (no sub-domain can plant or overwrite it).
SECURE_SESSION_COOKIE = "__Host-bankvoc_session"
CSRF_FIELD = "csrf_token"


def session_cookie_name() -> str:
    return SECURE_SESSION_COOKIE if get_settings().secure_cookies else SESSION_COOKIE


def set_session_cookie(response: Response, token: str) -> None:
    """The session's cookie: for this site's pages only, never readable by scripts, not sent
    with cross-site posts, Secure over TLS; it lasts as long as the browser (the server ends
    the session on its own clock)."""
    response.set_cookie(session_cookie_name(), token, path="/", httponly=True, samesite="lax",
                        secure=get_settings().secure_cookies)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(session_cookie_name(), path="/", httponly=True, samesite="lax",
                           secure=get_settings().secure_cookies)


@dataclass(frozen=True)
class Viewer:
    """Who is looking: by a session cookie (`session_id`, `csrf` set; forms must carry the
    CSRF token) or by a bearer token (integrations and tests: nothing a browser sends by
    itself, so no CSRF token either)."""

    actor: Actor
    demo: bool
    csrf: str | None = None
    session_id: int | None = None
    must_change_password: bool = False


class LoginRequired(BankvocError):
    """No session: the page answers with a redirect (303) to the log-in page."""

    status = 303
    code = "login_required"

    def __init__(self, next_url: str | None) -> None:
        super().__init__("log in first", field="session")
        self.next_url = next_url


class PasswordChangeRequired(BankvocError):
    """An initial password: every page but the password page sends the user there first."""

    status = 303
    code = "password_change_required"

    def __init__(self, next_url: str | None) -> None:
        super().__init__("change the initial password first", field="password")
        self.next_url = next_url


def _token(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'", code="invalid_token",
                           field="Authorization")
    return token.strip()


def here(request: Request) -> str | None:
    """Where to come back to after logging in: this page, when it was asked for with GET."""
    if request.method not in ("GET", "HEAD"):
        return None
    root = request.scope.get("root_path", "")
    path = request.url.path[len(root):] if root and request.url.path.startswith(root) \
        else request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def session_viewer(session: DbSession, request: Request) -> Viewer:
    """A bearer token's user, else the user of the session cookie; else a redirect to the
    log-in page. (The password page and log-out take this one: an initial password is let
    through to be changed.)"""
    demo = get_settings().demo
    header = request.headers.get("Authorization")
    if header:
        try:
            return Viewer(org_service.authenticate(session, token=_token(header)), demo=demo)
        except Unauthorized as exc:
            raise Unauthorized(exc.message, code="invalid_token", field=exc.field) from None
    token = request.cookies.get(session_cookie_name())
    if not token:
        raise LoginRequired(here(request))
    try:
        found = auth.resolve_session(session, token=token)
    except SessionInvalid:
        raise LoginRequired(here(request)) from None
    return Viewer(org_service.actor_for(found.user), demo=demo, csrf=auth.session_csrf(found),
                  session_id=found.id, must_change_password=found.user.must_change_password)


SessionViewer = Annotated[Viewer, Depends(session_viewer)]


def viewer(who: SessionViewer, request: Request) -> Viewer:
    """The viewer of every page: logged in, and done with any initial password."""
    if who.must_change_password:
        raise PasswordChangeRequired(here(request))
    return who


CurrentViewer = Annotated[Viewer, Depends(viewer)]


async def posted_form(request: Request, who: SessionViewer) -> Posted:
    """The text fields of a posted form (parsed before the route runs in its thread); a form
    posted under a session must carry the session's CSRF token (`CsrfRejected`, a 403 page,
    otherwise). The token is checked here and left out of the fields."""
    form = await request.form()
    items = tuple((k, v) for k, v in form.multi_items() if isinstance(v, str))
    if who.csrf is not None:
        given = next((v for k, v in items if k == CSRF_FIELD), "")
        if not auth.csrf_matches(who.csrf, given):
            raise CsrfRejected("the form's security token is missing or out of date: reload "
                               "the page and send it again", field=CSRF_FIELD)
    return Posted(tuple((k, v) for k, v in items if k != CSRF_FIELD))


PostedForm = Annotated[Posted, Depends(posted_form)]


# --- rendering -------------------------------------------------------------------------------

def _frame(request: Request, lab: Labeller, who: Viewer | None,
           page_url: str | None = None) -> dict[str, Any]:
    """What every page's frame (header, footer) needs."""
    root = request.scope.get("root_path", "")
    return {
        "_": lab, "lab": lab, "lang": lab.lang, "html_lang": HTML_LANG[lab.lang],
        "other_html_lang": HTML_LANG["en" if lab.lang == "zh" else "zh"],
        "switch_url": switch_url(request, lab.lang, page_url), "nav": "", "bare": False,
        "root": root, "version": __version__, "viewer": who,
        "csrf_token": who.csrf if who and who.csrf else "",
        "timezone": get_settings().timezone,
    }


def render(request: Request, name: str, context: dict[str, Any], *, lab: Labeller,
           who: Viewer | None, status: int = 200, headers: dict[str, str] | None = None,
           page_url: str | None = None) -> Response:
    """A page; `page_url` is its own address when answering a form post."""
    response = templates().TemplateResponse(
        request, name, {**_frame(request, lab, who, page_url), **context}, status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})})
    chosen = asked_lang(request)
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_MAX_AGE, path="/",
                            httponly=True, samesite="lax")
    return response


# --- error pages -----------------------------------------------------------------------------

class PageError(Exception):
    """A `BankvocError` met while building a page: rendered as an HTML page, not JSON."""

    def __init__(self, error: BankvocError) -> None:
        super().__init__(error.message)
        self.error = error


ERROR_TEXTS = {
    "not_found": ("error.not_found", "error.not_found_text"),
    "forbidden": ("error.forbidden", "error.forbidden_text"),
    "unauthorized": ("error.unauthorized", "error.unauthorized_text"),
    "invalid_token": ("error.unauthorized", "error.invalid_token"),
    "csrf": ("error.csrf", "error.csrf_text"),
    "internal": ("error.title", "error.internal_text"),
    "unavailable": ("error.unavailable", "error.unavailable_text"),
}


def error_page(request: Request, exc: Exception) -> Response:
    """The app's handler for `PageError`: an HTML page in the reader's language."""
    error = exc.error if isinstance(exc, PageError) else BankvocError("internal error",
                                                                      code="internal", status=500)
    if isinstance(error, LoginRequired | PasswordChangeRequired):
        return _redirect_for(request, error)
    lab = labeller(request)
    title_key, text_key = ERROR_TEXTS.get(error.code, ("error.title", ""))
    if error.code == "forbidden" and request.method != "GET":
        text_key = "error.forbidden_action_text"  # a refused form post is not a page to see
    if error.status >= 500 and error.code != "unavailable":
        title_key, text_key = ERROR_TEXTS["internal"]
    text = lab(text_key) if text_key else lab("error.generic_text", message=error.message)
    headers = ({"WWW-Authenticate": "Bearer"} if error.status == 401
               else {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else None)
    return render(request, "error.html", {"title": lab(title_key), "text": text,
                                          "status": error.status},
                  lab=lab, who=None, status=error.status, headers=headers)


class PageRoute(APIRoute):
    """A page route: expected failures (its dependencies' too) become HTML error pages.

    The error is re-raised as `PageError`, so the unit of work still rolls back.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, RequestValidationError):
                raise
            except BankvocError as exc:
                raise PageError(exc) from None
            except Exception as exc:
                if database_unavailable(exc):  # restarting, failing over: try again shortly
                    log.warning("page %s: the database is unavailable", request.url.path)
                    raise PageError(Unavailable("the database is unavailable for now")) from None
                # The type only: messages of unexpected errors may carry personal data.
                log.error("page %s failed: %s", request.url.path, type(exc).__name__)
                raise PageError(BankvocError("internal error", code="internal",
                                             status=500)) from None

        return page_handler


def safe_next(value: str | None) -> str | None:
    """`value` if it is a path of this site ("/cases?x=1"), else None: never another site
    ("//evil.example", "https://…", "/\\evil.example"), never a control character."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(char) < 32 or ord(char) == 127 for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _redirect_for(request: Request, error: LoginRequired | PasswordChangeRequired) -> Response:
    root = request.scope.get("root_path", "")
    page = "/login" if isinstance(error, LoginRequired) else "/password"
    target = safe_next(error.next_url)
    url = f"{root}{page}" + (f"?{urlencode({'next': target})}" if target else "")
    response = RedirectResponse(url, status_code=303)
    if isinstance(error, LoginRequired) and request.cookies.get(session_cookie_name()):
        clear_session_cookie(response)  # an ended session's cookie is of no more use
    return response
