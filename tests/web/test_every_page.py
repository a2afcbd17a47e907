"""Every screen, one more time: each GET page of the staff workbench (every route outside
/api/v1 in `api.access.ROUTE_PERMISSIONS`, so pages added later are checked too), rendered as the
administrator over the demo data, in Chinese and in English, read with an HTML parser:

- every form control shown (input but hidden/submit/button/reset/image, select, textarea) has a
  label: `label[for]`, a wrapping label, or `aria-label`/`aria-labelledby` naming existing
  elements;
- nothing the content security policy forbids: no inline script (JSON data blocks are data,
  not script), no `on…=` event handler, no `style=` attribute or `<style>` element;
- no asset from another site (no CDN): no `http(s)://` or `//` in a script, stylesheet, image,
  frame or media address;
- the page declares its language and a viewport, and links to itself in the other language.

SQLite only: one fresh database with the demo loaded, shared by the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.api.access import PUBLIC, ROUTE_PERMISSIONS, app_routes
from bankvoc.core.i18n import Lang
from bankvoc.web.rendering import SECURITY_HEADERS
from tests.conftest import form_token

# GET routes outside /api/v1 that answer no page of their own: a redirect, a probe, downloads.
NOT_PAGES = frozenset({"/", "/healthz", "/readyz", "/metrics", "/openapi.json",
                       "/dashboard/cases.{fmt}",
                       "/reports/monthly", "/branches/photos/{photo_id}"})
UNLABELLED_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})
DATA_SCRIPT_TYPES = frozenset({"application/json", "application/ld+json"})
ASSET_ATTRIBUTES = {"script": "src", "link": "href", "img": "src", "iframe": "src",
                    "source": "src", "video": "src", "audio": "src", "embed": "src",
                    "object": "data"}
FOREIGN = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
PARAMETER = re.compile(r"\{([^}]+)\}")
DEMO_CASES = 150


@dataclass
class Page:
    """What the checks need from one page, gathered by `PageReader`."""

    html_lang: str = ""
    viewport: bool = False
    ids: set[str] = field(default_factory=set)
    label_for: set[str] = field(default_factory=set)
    # (description, id, wrapped in a label, aria-labelledby ids, has aria-label)
    controls: list[tuple[str, str, bool, list[str], bool]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)


class PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.labels_open = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        page = self.page
        if "id" in found:
            page.ids.add(found["id"])
        described = f"<{tag}{''.join(f' {k}={v!r}' for k, v in attrs if k in ('id', 'name'))}>"
        for name in found:
            if name.startswith("on"):
                page.faults.append(f"inline event handler {name}= on {described}")
        if "style" in found:
            page.faults.append(f"inline style= on {described}")
        if tag == "style":
            page.faults.append("a <style> element")
        if tag == "html":
            page.html_lang = found.get("lang", "")
        elif tag == "meta" and found.get("name") == "viewport":
            page.viewport = "width=device-width" in found.get("content", "")
        elif tag == "label":
            self.labels_open += 1
            if found.get("for"):
                page.label_for.add(found["for"])
        elif tag == "a" and "href" in found:
            page.links.append(found["href"])
        if tag == "script" and not found.get("src") \
                and found.get("type", "").lower() not in DATA_SCRIPT_TYPES:
            page.faults.append("an inline <script> (the CSP refuses it)")
        asset = ASSET_ATTRIBUTES.get(tag)
        if asset and FOREIGN.match(found.get(asset, "")):
            page.faults.append(f"an asset from another site: <{tag} {asset}={found[asset]!r}>")
        is_control = (tag in ("select", "textarea") or (
            tag == "input" and found.get("type", "text").lower() not in UNLABELLED_TYPES)) \
            and "hidden" not in found  # not shown: nobody reads its label
        if is_control:
            page.controls.append((described, found.get("id", ""), self.labels_open > 0,
                                  found.get("aria-labelledby", "").split(),
                                  bool(found.get("aria-label", "").strip())))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.labels_open:
            self.labels_open -= 1


def read_page(html: str) -> Page:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return reader.page


def faults_of(html: str, lang: Lang) -> list[str]:
    """What is wrong with a page in `lang` (empty when nothing is)."""
    page = read_page(html)
    faults = list(page.faults)
    expected_lang = "zh-CN" if lang == "zh" else "en"
    if page.html_lang != expected_lang:
        faults.append(f"<html lang={page.html_lang!r}>, not {expected_lang!r}")
    if not page.viewport:
        faults.append("no <meta name=viewport content=width=device-width…>")
    for described, ident, wrapped, labelled_by, aria_label in page.controls:
        by_for = bool(ident) and ident in page.label_for
        by_ids = bool(labelled_by) and all(i in page.ids for i in labelled_by)
        if not (by_for or wrapped or by_ids or aria_label):
            faults.append(f"form control without a label: {described}")
    other = "en" if lang == "zh" else "zh"
    if not any(re.search(rf"[?&]lang={other}(&|$)", link) for link in page.links):
        faults.append(f"no link to this page in {'English' if other == 'en' else 'Chinese'}")
    return faults


# --- the checker checks (each check can fail) --------------------------------------------------

GOOD = """<!doctype html><html lang="zh-CN"><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/app.css"><script src="/static/charts.js"></script>
<script type="application/json" id="data">{"a": 1}</script></head><body>
<a href="/cases?lang=en">English</a><a href="https://example.com/help">help</a>
<label for="q">Words</label><input id="q" name="q">
<label>Mine <input type="checkbox" name="mine"></label>
<h2 id="t">Title</h2><select name="s" aria-labelledby="t"></select>
<textarea name="x" aria-label="Note"></textarea><input type="hidden" name="csrf_token">
<input type="text" name="username" autocomplete="username" hidden>
<button type="submit">Go</button></body></html>"""


class TestTheChecker:
    def test_a_good_page_passes(self) -> None:
        assert faults_of(GOOD, "zh") == []

    @pytest.mark.parametrize(("change", "fault"), [
        (('<input id="q" name="q">', '<input id="q2" name="q">'), "without a label"),
        (('aria-labelledby="t"', 'aria-labelledby="nowhere"'), "without a label"),
        (('aria-label="Note"', 'aria-label=" "'), "without a label"),
        (("</body>", '<script>alert(1)</script></body>'), "inline <script>"),
        (("<button", '<button onclick="go()"'), "onclick="),
        (("<h2 ", '<h2 style="color: red" '), "inline style="),
        (("</head>", "<style>p{}</style></head>"), "<style>"),
        (('href="/static/app.css"', 'href="https://cdn.example.com/app.css"'), "another site"),
        (('src="/static/charts.js"', 'src="//cdn.example.com/x.js"'), "another site"),
        (('lang="zh-CN"', 'lang=""'), "<html lang"),
        (('name="viewport"', 'name="robots"'), "viewport"),
        (("?lang=en", "?lang=zh"), "in English"),
    ])
    def test_a_bad_page_fails(self, change: tuple[str, str], fault: str) -> None:
        before, after = change
        assert before in GOOD
        faults = faults_of(GOOD.replace(before, after, 1), "zh")
        assert any(fault in f for f in faults), faults

    def test_the_csp_forbids_what_the_checker_refuses(self) -> None:
        policy = SECURITY_HEADERS["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "style-src 'self';" in policy  # no 'unsafe-inline': no style= attributes


# --- the workbench's pages ---------------------------------------------------------------------

@dataclass
class Workbench:
    client: TestClient
    anonymous: TestClient
    samples: dict[str, str]  # path template -> the address to check it at
    pages: list[tuple[str, str]]  # (path template, permission)


def _samples(url: str) -> dict[str, str]:
    """Addresses worth choosing for pages with path parameters: a case under investigation has
    the most forms. (Other such pages are found through the links of the pages without.)"""
    from bankvoc.cases.models import Case
    from bankvoc.core.db import build_engine, unit_of_work

    engine = build_engine(url)
    try:
        with unit_of_work(engine) as session:
            case = session.scalars(select(Case).where(Case.status == "investigating")
                                   .order_by(Case.id)).first()
            assert case is not None, "the demo worked no case"
            visit = _inspection(session)
            review = _qa_review(session)
            return {"/cases/{reference}": f"/cases/{case.reference}",
                    "/branches/inspections/{inspection_id}": f"/branches/inspections/{visit}",
                    "/qa/reviews/{result_id}": f"/qa/reviews/{review}"}
    finally:
        engine.dispose()


def _inspection(session: Session) -> int:
    """A visit of the demo's first outlet with a failed item (so its page has a finding to
    close): the demo records none."""
    from bankvoc.branches import service as branch_service
    from bankvoc.branches.checklist import load_checklist
    from bankvoc.branches.schemas import VisitCreate
    from bankvoc.orgs import service as org_service

    actor = org_service.actor_for(org_service.get_user(session, username="admin"))
    codes = load_checklist().codes()
    outlet = branch_service.outlets(session, actor=actor)[0]
    data = VisitCreate.model_validate({
        "org_id": outlet.id, "kind": "inspection", "visited_at": "2026-09-10T02:00:00Z",
        "answers": [{"item_code": c, "result": "fail" if i == 0 else "pass"}
                    for i, c in enumerate(codes)]})
    return branch_service.record_visit(session, actor=actor, data=data).id


def _qa_review(session: Session) -> int:
    """An inspected call with a forbidden phrase (so its page highlights a turn and offers the
    review form): the demo imports no transcript."""
    from bankvoc.contact import interactions, reviews
    from bankvoc.orgs import service as org_service

    admin = org_service.get_user(session, username="admin")
    actor = org_service.actor_for(admin)
    said = [("agent", "您好，请问有什么可以帮您？"), ("customer", "我的卡被冻结了。"),
            ("agent", "这个我也不知道。")]
    turns = [{"speaker": who, "start_ms": i * 5000, "end_ms": i * 5000 + 4000, "text": text}
             for i, (who, text) in enumerate(said)]
    data = interactions.parse({"id": "EVERY-PAGE-1", "org": admin.org.code,
                               "started_at": "2026-09-10T02:00:00Z", "turns": turns},
                              source_system="asr")
    interactions.store(session, actor=actor, data=data)
    rows, _ = reviews.list_results(session, actor=actor)
    return rows[0].result.id


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    from bankvoc.api.app import create_app
    from bankvoc.core import migrate
    from bankvoc.core.db import build_engine
    from bankvoc.core.settings import reset_settings
    from bankvoc.demo.service import DEMO_PASSWORD, load_demo

    database: Path = tmp_path_factory.mktemp("every_page") / "demo.db"
    url = f"sqlite:///{database}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BANKVOC_DEMO", "1")
        patch.setenv("BANKVOC_DATABASE_URL", url)
        reset_settings()
        engine = build_engine(url)
        migrate.upgrade(engine)
        load_demo(engine, cases=DEMO_CASES, force=True)
        samples = _samples(url)
        app = create_app(engine=engine)
        pages = sorted((path, ROUTE_PERMISSIONS[(method, path)])
                       for method, path, _ in app_routes(app)
                       if method == "GET" and not path.startswith("/api/")
                       and path not in NOT_PAGES)
        with TestClient(app) as client, TestClient(app) as anonymous:
            login = client.get("/login")
            response = client.post("/login", data={
                "username": "demo_admin", "password": DEMO_PASSWORD,
                "csrf_token": form_token(login.text)}, follow_redirects=False)
            assert response.status_code == 303, response.text
            yield Workbench(client=client, anonymous=anonymous, samples=samples, pages=pages)
        engine.dispose()
    reset_settings()


def _url(template: str, samples: dict[str, str], links: list[str],
         literal: frozenset[str]) -> str | None:
    """The page's address: its sample, else the first link (of the pages read so far) that
    fits the template and is no page of its own (`literal`: not /portal/complaints/new for
    /portal/complaints/{reference}); None when there is neither."""
    if template in samples or "{" not in template:
        return samples.get(template, template)
    fits = re.compile("^" + PARAMETER.sub("[^/?#]+", re.escape(template).replace(r"\{", "{")
                                          .replace(r"\}", "}")) + "$")
    return next((link for link in links if fits.match(link) and link not in literal), None)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_is_labelled_csp_clean_local_and_bilingual(workbench: Workbench,
                                                             lang: Lang) -> None:
    assert ("/cases/new", "case.create") in workbench.pages  # the enumeration finds pages
    faults: dict[str, list[str]] = {}
    unchecked: list[str] = []
    redirected: list[str] = []
    links: list[str] = []
    literal = frozenset(path for path, _ in workbench.pages if "{" not in path)
    # The pages without parameters first: their links lead to the others.
    for template, permission in sorted(workbench.pages, key=lambda p: "{" in p[0]):
        url = _url(template, workbench.samples, links, literal)
        if url is None:
            # A public page with parameters needs a customer's own session (a reference just
            # filed): out of reach here, like the public pages that redirect.
            (redirected if permission == PUBLIC else unchecked).append(template)
            continue
        client = workbench.anonymous if permission == PUBLIC else workbench.client
        response = client.get(url, params={"lang": lang}, follow_redirects=False)
        if response.is_redirect and permission == PUBLIC:
            # A step of a public flow that needs state first (a customer's verified phone);
            # the pages it leads to are in the list themselves.
            redirected.append(template)
            continue
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            faults[template] = [f"{url} answered {response.status_code} "
                                f"{response.headers.get('content-type', '')}, not a page"]
            continue
        links += [link.split("?")[0] for link in read_page(response.text).links]
        found = faults_of(response.text, lang)
        if found:
            faults[template] = found
    report = "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in faults.items())
    assert not faults, (f"pages in {lang} with problems:\n{report}\n(public pages that "
                        f"redirected or need a customer's session, not checked: "
                        f"{redirected})")
    assert not unchecked, (f"no page links to {unchecked}: add a sample of its path "
                           "parameters to `_samples`")
