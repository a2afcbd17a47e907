"""Rendering pages: templates, language, who is looking, security headers, error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException

from bankvoc import __version__
from bankvoc.api.deps import DbSession
from bankvoc.core.errors import BankvocError, Unauthorized
from bankvoc.core.i18n import LANGS, Lang, pick_lang
from bankvoc.core.settings import get_settings
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs import service as org_service
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

@dataclass(frozen=True)
class Viewer:
    actor: Actor
    demo: bool


def _token(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'", code="invalid_token",
                           field="Authorization")
    return token.strip()


def viewer(session: DbSession, request: Request) -> Viewer:
    """A bearer token's user; else the demo administrator in demo mode; else 401.

    Log-in screens come later: until then nobody browses the pages outside demo mode
    without a token.
    """
    header = request.headers.get("Authorization")
    if header:
        try:
            return Viewer(org_service.authenticate(session, token=_token(header)), demo=False)
        except Unauthorized as exc:
            raise Unauthorized(exc.message, code="invalid_token", field=exc.field) from None
    if get_settings().demo:
        admin = org_service.get_user(session, username=org_service.ADMIN_USERNAME)
        return Viewer(org_service.actor_for(admin), demo=True)
    raise Unauthorized("log-in is not available yet", field="Authorization")


CurrentViewer = Annotated[Viewer, Depends(viewer)]


async def posted_form(request: Request) -> Posted:
    """The text fields of a posted form (parsed before the route runs in its thread)."""
    form = await request.form()
    return Posted(tuple((k, v) for k, v in form.multi_items() if isinstance(v, str)))


PostedForm = Annotated[Posted, Depends(posted_form)]


# --- rendering -------------------------------------------------------------------------------

def _frame(request: Request, lab: Labeller, who: Viewer | None,
           page_url: str | None = None) -> dict[str, Any]:
    """What every page's frame (header, footer) needs."""
    root = request.scope.get("root_path", "")
    return {
        "_": lab, "lab": lab, "lang": lab.lang, "html_lang": HTML_LANG[lab.lang],
        "other_html_lang": HTML_LANG["en" if lab.lang == "zh" else "zh"],
        "switch_url": switch_url(request, lab.lang, page_url), "nav": "",
        "root": root, "version": __version__, "viewer": who,
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
    "internal": ("error.title", "error.internal_text"),
}


def error_page(request: Request, exc: Exception) -> Response:
    """The app's handler for `PageError`: an HTML page in the reader's language."""
    error = exc.error if isinstance(exc, PageError) else BankvocError("internal error",
                                                                      code="internal", status=500)
    lab = labeller(request)
    title_key, text_key = ERROR_TEXTS.get(error.code, ("error.title", ""))
    if error.status >= 500:
        title_key, text_key = ERROR_TEXTS["internal"]
    text = lab(text_key) if text_key else lab("error.generic_text", message=error.message)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
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
                # The type only: messages of unexpected errors may carry personal data.
                log.error("page %s failed: %s", request.url.path, type(exc).__name__)
                raise PageError(BankvocError("internal error", code="internal",
                                             status=500)) from None

        return page_handler
