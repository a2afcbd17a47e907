"""The administration pages under /admin: the admin home, the org tree, users, the permission
table and the directory's change log. Routes only call `admin_pages`.

A change taken redirects (303) to the page of what was changed, which says so; a refused one
shows the page again with what to fix next to its field (422, 409, or 403 for a rule such as
granting a role one does not hold). The route table (`api.access`) gates each route.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from bankvoc.api.deps import DbSession
from bankvoc.web import admin_pages
from bankvoc.web.admin_pages import FormState
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, PostedForm, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NAV = "admin"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _page(request: Request, name: str, context: dict[str, object], *, who: CurrentViewer,
          lab: Lab, status: int = 200, url: str | None = None) -> Response:
    """A page of the area; answering a form post, `url` is the page's own address."""
    return render(request, name, {**context, "nav": NAV}, lab=lab, who=who, status=status,
                  page_url=url if request.method == "POST" else None)


def _done(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?{urlencode({'done': done})}#done", status_code=303)


@router.get("/admin")
def admin_home(request: Request, who: CurrentViewer, lab: Lab) -> Response:
    """The administration areas the viewer's roles may open."""
    groups = admin_pages.admin_home(who.actor, lab, _root(request))
    return _page(request, "admin/home.html", {"groups": groups}, who=who, lab=lab)


# --- the org tree ------------------------------------------------------------------------------

def _orgs_page(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
               form: FormState | None = None) -> Response:
    view = admin_pages.orgs_view(session, actor=who.actor, lab=lab, form=form)
    return _page(request, "admin/orgs.html", {"view": view}, who=who, lab=lab,
                 status=view.form.status, url=f"{_root(request)}/admin/orgs")


@router.get("/admin/orgs")
def org_tree(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The viewer's subtree of orgs, with the form to add a sub-org."""
    return _orgs_page(request, session, who, lab)


@router.post("/admin/orgs")
def create_org(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
               posted: PostedForm) -> Response:
    """Add a sub-org: 303 to its page, or the tree again with what to fix."""
    org, form = admin_pages.create_org(session, actor=who.actor, posted=posted, lab=lab)
    if org is not None:
        return _done(f"{_root(request)}/admin/orgs/{org.id}", "create")
    return _orgs_page(request, session, who, lab, form)


def _org_page(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
              org_id: int, rename: FormState | None = None,
              status_form: FormState | None = None) -> Response:
    page = admin_pages.org_page(session, actor=who.actor, org_id=org_id, lab=lab,
                                root=_root(request), done=request.query_params.get("done", ""),
                                rename=rename, status_form=status_form)
    return _page(request, "admin/org.html", {"page": page}, who=who, lab=lab,
                 status=page.status_code, url=f"{_root(request)}/admin/orgs/{org_id}")


@router.get("/admin/orgs/{org_id}")
def org_page(request: Request, org_id: int, session: DbSession, who: CurrentViewer,
             lab: Lab) -> Response:
    """One org: its facts, rename and (de)activate forms, and its history."""
    return _org_page(request, session, who, lab, org_id)


@router.post("/admin/orgs/{org_id}")
def rename_org(request: Request, org_id: int, session: DbSession, who: CurrentViewer,
               lab: Lab, posted: PostedForm) -> Response:
    form = admin_pages.rename_org(session, actor=who.actor, org_id=org_id, posted=posted,
                                  lab=lab)
    if form.problem is None:
        return _done(f"{_root(request)}/admin/orgs/{org_id}", "update")
    return _org_page(request, session, who, lab, org_id, rename=form)


def _org_status(request: Request, org_id: int, session: DbSession, who: CurrentViewer,
                lab: Lab, posted: PostedForm, active: bool) -> Response:
    form = admin_pages.set_org_active(session, actor=who.actor, org_id=org_id, active=active,
                                      posted=posted, lab=lab)
    if form.problem is None:
        return _done(f"{_root(request)}/admin/orgs/{org_id}",
                     "reactivate" if active else "deactivate")
    return _org_page(request, session, who, lab, org_id, status_form=form)


@router.post("/admin/orgs/{org_id}/deactivate")
def deactivate_org(request: Request, org_id: int, session: DbSession, who: CurrentViewer,
                   lab: Lab, posted: PostedForm) -> Response:
    """Deactivate an org with no active sub-org, active user or open case."""
    return _org_status(request, org_id, session, who, lab, posted, active=False)


@router.post("/admin/orgs/{org_id}/reactivate")
def reactivate_org(request: Request, org_id: int, session: DbSession, who: CurrentViewer,
                   lab: Lab, posted: PostedForm) -> Response:
    return _org_status(request, org_id, session, who, lab, posted, active=True)


# --- users -------------------------------------------------------------------------------------

@router.get("/admin/users")
def user_list(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """Users of the viewer's subtree, by name, org, role and status."""
    view = admin_pages.users_view(session, actor=who.actor, params=request.query_params,
                                  lab=lab, root=_root(request))
    return _page(request, "admin/users.html", {"view": view}, who=who, lab=lab,
                 status=view.status_code)


def _new_user_page(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                   form: FormState | None = None) -> Response:
    view = admin_pages.new_user_view(session, actor=who.actor, lab=lab, form=form)
    return _page(request, "admin/user_new.html", {"view": view}, who=who, lab=lab,
                 status=view.form.status, url=f"{_root(request)}/admin/users/new")


@router.get("/admin/users/new")
def new_user(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The form for a new user with an initial password."""
    return _new_user_page(request, session, who, lab)


@router.post("/admin/users")
def create_user(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                posted: PostedForm) -> Response:
    """Create a user: 303 to their page, or the form again with what to fix."""
    user, form = admin_pages.create_user(session, actor=who.actor, posted=posted, lab=lab)
    if user is not None:
        return _done(f"{_root(request)}/admin/users/{user.id}", "create")
    return _new_user_page(request, session, who, lab, form)


def _user_page(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
               user_id: int, forms: dict[str, FormState] | None = None) -> Response:
    page = admin_pages.user_page(session, actor=who.actor, user_id=user_id, lab=lab,
                                 root=_root(request),
                                 done=request.query_params.get("done", ""), forms=forms)
    return _page(request, "admin/user.html", {"page": page}, who=who, lab=lab,
                 status=page.status_code, url=f"{_root(request)}/admin/users/{user_id}")


@router.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: int, session: DbSession, who: CurrentViewer,
              lab: Lab) -> Response:
    """One user: facts, the edit form, the account's actions and its history."""
    return _user_page(request, session, who, lab, user_id)


@router.post("/admin/users/{user_id}")
def edit_user(request: Request, user_id: int, session: DbSession, who: CurrentViewer,
              lab: Lab, posted: PostedForm) -> Response:
    done, form = admin_pages.edit_user(session, actor=who.actor, user_id=user_id,
                                       posted=posted, lab=lab)
    if done:
        return _done(f"{_root(request)}/admin/users/{user_id}", done)
    return _user_page(request, session, who, lab, user_id, {"edit": form})


def _user_action(request: Request, user_id: int, action: str, session: DbSession,
                 who: CurrentViewer, lab: Lab, posted: PostedForm) -> Response:
    done, form = admin_pages.user_action(session, actor=who.actor, user_id=user_id,
                                         action=action, posted=posted, lab=lab)
    if done:
        return _done(f"{_root(request)}/admin/users/{user_id}", done)
    form_name = admin_pages.ACTION_FORMS[action][0]
    return _user_page(request, session, who, lab, user_id, {form_name: form})


@router.post("/admin/users/{user_id}/deactivate")
def deactivate_user(request: Request, user_id: int, session: DbSession, who: CurrentViewer,
                    lab: Lab, posted: PostedForm) -> Response:
    """Deactivate a user; their sessions end now."""
    return _user_action(request, user_id, "deactivate", session, who, lab, posted)


@router.post("/admin/users/{user_id}/reactivate")
def reactivate_user(request: Request, user_id: int, session: DbSession, who: CurrentViewer,
                    lab: Lab, posted: PostedForm) -> Response:
    return _user_action(request, user_id, "reactivate", session, who, lab, posted)


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, user_id: int, session: DbSession, who: CurrentViewer,
                   lab: Lab, posted: PostedForm) -> Response:
    """A new initial password, to be changed at the next log-in."""
    return _user_action(request, user_id, "password", session, who, lab, posted)


@router.post("/admin/users/{user_id}/unlock")
def unlock_user(request: Request, user_id: int, session: DbSession, who: CurrentViewer,
                lab: Lab, posted: PostedForm) -> Response:
    return _user_action(request, user_id, "unlock", session, who, lab, posted)


# --- roles and the change log ------------------------------------------------------------------

@router.get("/admin/roles")
def roles(request: Request, who: CurrentViewer, lab: Lab) -> Response:
    """Which role holds which permission: read only (the table is code)."""
    view = admin_pages.roles_view(who.actor, lab)
    return _page(request, "admin/roles.html", {"view": view}, who=who, lab=lab)


@router.get("/admin/audit")
def audit(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """The directory's changes in the viewer's subtree, with filters."""
    view = admin_pages.audit_view(session, actor=who.actor, params=request.query_params,
                                  lab=lab, root=_root(request))
    return _page(request, "admin/audit.html", {"view": view}, who=who, lab=lab,
                 status=view.status_code)


# --- KPI targets -------------------------------------------------------------------------------

def _kpi_targets_page(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                      form: FormState | None = None) -> Response:
    view = admin_pages.kpi_targets_view(session, actor=who.actor, lab=lab,
                                        done=request.query_params.get("done", ""), form=form)
    return _page(request, "admin/kpi_targets.html", {"view": view}, who=who, lab=lab,
                 status=view.form.status, url=f"{_root(request)}/admin/kpi-targets")


@router.get("/admin/kpi-targets")
def kpi_targets(request: Request, session: DbSession, who: CurrentViewer, lab: Lab) -> Response:
    """Each KPI's targets in force (bank-wide and in the viewer's subtree), the form to set
    one, and the history of the settings."""
    return _kpi_targets_page(request, session, who, lab)


@router.post("/admin/kpi-targets")
def set_kpi_target(request: Request, session: DbSession, who: CurrentViewer, lab: Lab,
                   posted: PostedForm) -> Response:
    """Set a target from a month on: 303 back to the list, or the list with what to fix."""
    done, form = admin_pages.set_kpi_target(session, actor=who.actor, posted=posted, lab=lab)
    if done:
        return _done(f"{_root(request)}/admin/kpi-targets", "set")
    return _kpi_targets_page(request, session, who, lab, form)
