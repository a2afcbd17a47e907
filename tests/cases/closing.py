"""Cases driven through the whole loop to their end, for the dossier and retention tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bankvoc.cases import attachments
from bankvoc.cases.models import Case
from bankvoc.cases.workflow import schemas, service
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs import service as org_service
from bankvoc.surveys import service as surveys_service
from bankvoc.surveys.models import Callback
from bankvoc.surveys.schemas import CallbackResult
from tests.conftest import World

STEP = schemas.STEP_ADAPTER
# The first step's time; each later step is an hour on (received 2026-09-22 15:30 Shanghai).
START = datetime(2026, 9, 23, 2, 0, tzinfo=UTC)
NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"
TEXT = f"我叫{NAME}，手机{PHONE}，信用卡年费被多扣了200元，要求退还。"
EVIDENCE = "通话录音摘要：客户称首年免年费。".encode()


def add_staff(world: World) -> World:
    """The test world plus a Beijing team lead and second handler, and head-office 消保."""
    s = world.session
    bj = org_service.get_org_by_code(s, code="BJ")
    hq = org_service.get_org_by_code(s, code="HQ")
    for name, org, roles in (("bj_lead", bj, ["team_lead"]), ("hq_cpo", hq, ["cpo"]),
                             ("bj_handler2", bj, ["handler"])):
        user = org_service.create_user(s, username=name, display_name=name, org=org,
                                       roles=roles)
        world.tokens[name] = org_service.issue_token(s, user=user)
    s.flush()
    return world


class Loop:
    """Takes steps on one case, each an hour after the one before."""

    def __init__(self, world: World, case: Case, start: datetime = START) -> None:
        self.world, self.case, self.now = world, case, start

    def step(self, by: str, /, **payload: Any) -> Case:
        parsed = STEP.validate_python({"version": self.case.version, **payload})
        service.apply(self.world.session, actor=self.world.actor(by), case=self.case,
                      step=parsed, now=self.now)
        self.now += timedelta(hours=1)
        return self.case


def register(world: World, user: str = "bj_handler", **fields: Any) -> Case:
    data = CaseCreate.model_validate({
        "text": TEXT, "customer_name": NAME, "customer_phone": PHONE,
        "customer_id_number": ID_NUMBER, "received_at": "2026-09-22 15:30", **fields})
    draft = intake_service.register_case(world.session, actor=world.actor(user), data=data)
    return world.session.get_one(Case, draft.case_id)


def investigated(world: World, **fields: Any) -> Loop:
    """A case accepted, assigned to bj_handler2 and under investigation."""
    loop = Loop(world, register(world, **fields))
    loop.step("bj_handler", action="accept")
    loop.step("bj_lead", action="assign", user="bj_handler2")
    loop.step("bj_handler2", action="investigate")
    return loop


def closed_case(world: World, **fields: Any) -> Case:
    """A complaint worked through every part of the loop a dossier reports, and closed after a
    happy callback."""
    fields.setdefault("severity", "urgent")  # every urgent case is called back
    loop = investigated(world, **fields)
    case, session = loop.case, world.session
    loop.step("bj_handler2", action="note", kind="dispute_focus", text="首年年费是否应当免收")
    loop.step("bj_handler2", action="note", kind="finding",
              text=f"系统未识别首年免年费标记；已致电{PHONE}核实")
    loop.step("bj_handler2", action="note", kind="evidence", text="调取开卡合同及通话录音")
    attachments.add_attachment(session, actor=world.actor("bj_handler2"), case=case,
                               filename="录音摘要.txt", content_type="text/plain",
                               stream=io.BytesIO(EVIDENCE))
    loop.step("bj_handler2", action="note", kind="basis", text="信用卡章程第五条：首年免年费")
    loop.step("bj_handler2", action="add_cohandler", org="PBC")
    loop.step("bj_handler2", action="add_complainant", phone="13900000001",
              representative=True)
    loop.step("bj_handler2", action="extend", reason="需调取录音核实")
    loop.step("bj_handler2", action="pause", reason="appraisal", note="送交系统鉴定")
    loop.now += timedelta(days=2)
    loop.step("bj_handler2", action="resume")
    loop.step("bj_handler2", action="propose", decision="refund", amount="200",
              basis="首年免年费条款")
    loop.step("bj_handler2", action="resolve", told_via="phone", summary="已退还年费200元")
    loop.step("bj_handler2", action="tell", via="sms", summary="退款已到账，请查收")
    surveys_service.schedule_due(session, now=loop.now)
    callback = session.scalar(select(Callback).where(Callback.case_id == case.id))
    assert callback is not None
    surveys_service.record_result(
        session, actor=world.actor("bj_handler2"), callback_id=callback.id, now=loop.now,
        result=CallbackResult(csat=5, nps=9, solved=True, comment="处理及时，很满意"))
    assert case.status == "closed", case.status
    session.flush()
    return case


def refused_case(world: World, number: int, now: datetime = START) -> Case:
    """A case of its own customer, not accepted (so finished at once) at `now`."""
    case = register(world, source_id=f"refused-{number}", customer_phone=f"137{number:08d}",
                    customer_id_number=None, customer_name=None)
    Loop(world, case, now).step("bj_handler", action="refuse", reason="非本行业务")
    return case
