from __future__ import annotations

from pydantic import BaseModel


class OrgRead(BaseModel):
    code: str
    name: str
    name_en: str | None
    kind: str
    parent_code: str | None


class MeRead(BaseModel):
    username: str
    org: str
    roles: list[str]
