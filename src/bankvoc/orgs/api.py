from __future__ import annotations

from fastapi import APIRouter

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.orgs import service
from bankvoc.orgs.schemas import MeRead, OrgRead

router = APIRouter(tags=["orgs"])


@router.get("/orgs", response_model=list[OrgRead], responses=errors(401, 403))
def list_orgs(session: DbSession, actor: CurrentActor) -> list[OrgRead]:
    orgs = service.list_orgs(session, actor=actor)
    codes = {o.id: o.code for o in orgs}
    return [OrgRead(code=o.code, name=o.name, name_en=o.name_en, kind=o.kind,
                    parent_code=codes.get(o.parent_id) if o.parent_id else None) for o in orgs]


@router.get("/me", response_model=MeRead, responses=errors(401))
def me(session: DbSession, actor: CurrentActor) -> MeRead:
    org = service.get_org_by_id(session, org_id=actor.org_id)
    return MeRead(username=actor.username, org=org.code, roles=sorted(actor.roles))
