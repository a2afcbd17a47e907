"""Training records of the demo: each month of the half year, a session per contact-centre
team (its agents attend, the rule categories the centre's calls miss most are covered) and,
every other month, a service-standard session per outlet; assessment scores mostly pass, so the
pass rate sits near its 90% target, above it in some months and below in others."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bankvoc.branches import service as branches
from bankvoc.core.db import unit_of_work
from bankvoc.demo import generator
from bankvoc.demo.contact import TEAMS
from bankvoc.orgs import service as org_service
from bankvoc.people import training
from bankvoc.people.models import TrainingSession

MONTHS = 6
TOPICS = (("开场白与结束语规范", ("greeting", "closing")),
          ("身份核实与风险提示", ("identity_check", "risk_disclosure")),
          ("服务禁语与情绪安抚", ("forbidden_phrase", "emotion")),
          ("静音、抢话与语速控制", ("silence", "interruption", "speech_rate")))
OUTLET_TOPIC = "网点服务规范与投诉处理"
OUTLET_STAFF = 4  # attendees per outlet session (pseudonymous usernames)


def _score(rng: random.Random) -> float:
    return float(min(100, max(30, round(rng.gauss(78, 12)))))


def seed_training(engine: Engine, *, today: date, seed: int = generator.DEFAULT_SEED) -> int:
    """Store the demo's training sessions and results once; returns how many results."""
    with unit_of_work(engine) as session:
        if session.scalar(select(TrainingSession.id).limit(1)) is not None:
            return 0
        actor = org_service.actor_for(org_service.get_user(session, username=generator.LOADER))
        rng = random.Random(seed + 29)
        rows: list[training.TrainingRow] = []
        for back in range(MONTHS, 0, -1):
            index = today.year * 12 + today.month - 1 - back
            day = date(index // 12, index % 12 + 1, 10)
            topic, categories = TOPICS[back % len(TOPICS)]
            for number, team in enumerate(TEAMS, start=1):
                code = f"DEMO-TR-{day:%Y%m}-CC{number}"
                rows += [training.TrainingRow(code, topic, day, team.lead,
                                              generator.CONTACT_CENTRE, categories, 60.0,
                                              username, _score(rng))
                         for username, _ in team.agents]
            if back % 2:
                continue
            for outlet in branches.outlets(session, actor=actor):
                code = f"DEMO-TR-{day:%Y%m}-{outlet.code}"
                rows += [training.TrainingRow(code, OUTLET_TOPIC, day, "消保部讲师",
                                              outlet.code, (), 60.0,
                                              f"{outlet.code.lower()}_staff{i}", _score(rng))
                         for i in range(1, OUTLET_STAFF + 1)]
        for row in rows:
            training.store(session, actor=actor, row=row)
    return len(rows)
