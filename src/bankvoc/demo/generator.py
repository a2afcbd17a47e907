"""Demo data, without a database: the org tree, the users, and a year of customer voices.

Everything is drawn from one `random.Random(seed)`, so the same seed and the same `today` give
the same records, byte for byte; and records are made one after the other from state that does
not depend on how many are asked for, so the first 300 of 20,000 are the 300 of a smaller run.

Row 1 is always the same short praise record, received on the day before `today` and carrying
no customer: the loader reads its receipt date back to find the `today` of an earlier load, so
loading again on a later day changes nothing.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from bankvoc.customers.masking import id_check_char
from bankvoc.demo import phrases
from bankvoc.demo.phrases import Scenario
from bankvoc.nlp.taxonomy import Taxonomy, load_taxonomy
from bankvoc.orgs.enums import OrgKind, Role

DEFAULT_SEED = 95_533
SOURCE_SYSTEM = "demo"
DAYS = 365
ANCHOR_ROW = 1

T = TypeVar("T")


def source_id(row: int) -> str:
    return f"DEMO-{row:07d}"


def anchor_day(today: date) -> date:
    """The day row 1 is received: the last day of the demo year."""
    return today - timedelta(days=1)


def today_from_anchor(day: date) -> date:
    return day + timedelta(days=1)


# --- the bank -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrgSpec:
    code: str
    name: str
    name_en: str
    kind: OrgKind
    parent: str
    # For the generator: the city and the ID-number region codes of its customers.
    regions: tuple[str, ...] = ()
    weight: float = 1.0


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    org: str
    roles: tuple[Role, ...]


ROOT = "HQ"
CONTACT_CENTRE = "RBC"
CONSUMER_PROTECTION = "CPD"

_BRANCHES: tuple[tuple[str, str, str, float, tuple[str, ...],
                       tuple[tuple[str, str, str, OrgKind], ...]], ...] = (
    ("BJ", "北京", "Beijing", 1.4, ("110101", "110102", "110105", "110108"), (
        ("01", "海淀支行", "Haidian Sub-branch", OrgKind.sub_branch),
        ("02", "朝阳支行", "Chaoyang Sub-branch", OrgKind.sub_branch),
        ("03", "西城支行", "Xicheng Sub-branch", OrgKind.sub_branch),
    )),
    ("SH", "上海", "Shanghai", 1.4, ("310101", "310104", "310106", "310115"), (
        ("01", "浦东支行", "Pudong Sub-branch", OrgKind.sub_branch),
        ("02", "徐汇支行", "Xuhui Sub-branch", OrgKind.sub_branch),
        ("03", "静安网点", "Jing'an Outlet", OrgKind.outlet),
    )),
    ("GZ", "广州", "Guangzhou", 1.1, ("440103", "440104", "440106", "440113"), (
        ("01", "天河支行", "Tianhe Sub-branch", OrgKind.sub_branch),
        ("02", "越秀支行", "Yuexiu Sub-branch", OrgKind.sub_branch),
        ("03", "番禺网点", "Panyu Outlet", OrgKind.outlet),
    )),
    ("SZ", "深圳", "Shenzhen", 1.0, ("440303", "440304", "440305"), (
        ("01", "福田支行", "Futian Sub-branch", OrgKind.sub_branch),
        ("02", "南山支行", "Nanshan Sub-branch", OrgKind.sub_branch),
    )),
    ("CD", "成都", "Chengdu", 0.8, ("510104", "510107", "510108"), (
        ("01", "锦江支行", "Jinjiang Sub-branch", OrgKind.sub_branch),
        ("02", "高新支行", "Gaoxin Sub-branch", OrgKind.sub_branch),
        ("03", "武侯网点", "Wuhou Outlet", OrgKind.outlet),
    )),
    ("HZ", "杭州", "Hangzhou", 0.7, ("330102", "330106", "330108"), (
        ("01", "西湖支行", "Xihu Sub-branch", OrgKind.sub_branch),
        ("02", "滨江网点", "Binjiang Outlet", OrgKind.outlet),
    )),
    ("WH", "武汉", "Wuhan", 0.8, ("420102", "420103", "420106", "420111"), (
        ("01", "武昌支行", "Wuchang Sub-branch", OrgKind.sub_branch),
        ("02", "江汉支行", "Jianghan Sub-branch", OrgKind.sub_branch),
        ("03", "光谷网点", "Optics Valley Outlet", OrgKind.outlet),
        ("04", "汉口网点", "Hankou Outlet", OrgKind.outlet),
    )),
)
# Customers who moved to a big city keep the region code of their birthplace.
_OTHER_REGIONS = ("130102", "410105", "430102", "370102", "320102", "500103", "610113",
                  "350102", "450103", "220102", "340104", "360102")


def _org_specs() -> tuple[OrgSpec, ...]:
    specs = [
        OrgSpec(CONSUMER_PROTECTION, "消费者权益保护部", "Consumer Protection Department",
                OrgKind.department, ROOT),
        OrgSpec(CONTACT_CENTRE, "远程银行中心（电话银行中心）", "Remote Banking Centre",
                OrgKind.centre, ROOT),
    ]
    for code, city, city_en, weight, regions, children in _BRANCHES:
        specs.append(OrgSpec(code, f"{city}分行", f"{city_en} Branch", OrgKind.branch, ROOT,
                             regions, weight))
        for suffix, name, name_en, kind in children:
            specs.append(OrgSpec(code + suffix, city + name, f"{city_en} {name_en}", kind, code,
                                 regions, weight / len(children)))
    # One outlet a level deeper, where the demo branch manager works.
    specs.append(OrgSpec("BJ0101", "北京中关村网点", "Beijing Zhongguancun Outlet",
                         OrgKind.outlet, "BJ01", ("110108",), 0.3))
    return tuple(specs)


ORG_SPECS: tuple[OrgSpec, ...] = _org_specs()
_ORGS = {o.code: o for o in ORG_SPECS}
_ORGS[ROOT] = OrgSpec(ROOT, "总行", "Head office", OrgKind.head_office, "")
BRANCH_CODES = tuple(o.code for o in ORG_SPECS if o.kind == OrgKind.branch)
# Where customers are served: sub-branches and outlets.
LEAF_CODES = tuple(o.code for o in ORG_SPECS if o.kind in (OrgKind.sub_branch, OrgKind.outlet))


def branch_of(code: str) -> str:
    spec = _ORGS[code]
    while spec.kind != OrgKind.branch:
        spec = _ORGS[spec.parent]
    return spec.code


# A user sees the cases of their org's subtree: who looks after the whole bank sits at head office.
USER_SPECS: tuple[UserSpec, ...] = (
    UserSpec("demo_admin", "演示管理员", ROOT, (Role.admin,)),
    UserSpec("demo_cpo", "周消保（演示）", ROOT, (Role.cpo,)),
    UserSpec("demo_analyst", "林分析（演示）", ROOT, (Role.analyst,)),
    UserSpec("demo_auditor", "孙审计（演示）", ROOT, (Role.auditor,)),
    UserSpec("demo_handler_bj", "王处理（演示）", "BJ", (Role.handler,)),
    UserSpec("demo_handler_sh", "陈处理（演示）", "SH", (Role.handler,)),
    UserSpec("demo_handler_gz", "黄处理（演示）", "GZ", (Role.handler,)),
    UserSpec("demo_team_lead", "刘组长（演示）", CONTACT_CENTRE, (Role.team_lead,)),
    UserSpec("demo_agent", "赵坐席（演示）", CONTACT_CENTRE, (Role.agent,)),
    UserSpec("demo_agent2", "吴坐席（演示）", CONTACT_CENTRE, (Role.agent,)),
    UserSpec("demo_qa", "郑质检（演示）", CONTACT_CENTRE, (Role.qa_inspector,)),
    UserSpec("demo_branch_manager", "杨网点（演示）", "BJ0101", (Role.branch_manager,)),
)
# The user the records are registered as.
LOADER = "demo_admin"


# --- identities ---------------------------------------------------------------------------------

def make_id_number(rng: random.Random, *, region: str, birth: date, male: bool) -> str:
    sequence = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else
                                                       (0, 2, 4, 6, 8))
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def make_mobile(rng: random.Random) -> str:
    return rng.choice(phrases.MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def make_card_number(rng: random.Random) -> str:
    """A 16 or 19 digit bank card number that passes the Luhn check."""
    length = rng.choice((16, 19))
    body = rng.choice(phrases.CARD_BINS)
    body += "".join(rng.choice(string.digits) for _ in range(length - 1 - len(body)))
    return body + luhn_check_digit(body)


def _front_loaded(rng: random.Random, items: Sequence[T]) -> T:
    """Favour the front of a list (common surnames) without precomputed weights."""
    return items[min(int(rng.expovariate(1 / (len(items) / 4))), len(items) - 1)]


def make_name(rng: random.Random, *, male: bool) -> str:
    surname = _front_loaded(rng, phrases.SURNAMES)
    given = rng.choice(phrases.GIVEN_MALE if male else phrases.GIVEN_FEMALE)
    if len(given) == 1 and rng.random() < 0.4:  # a two-character given name
        given += rng.choice(phrases.GIVEN_MALE if male else phrases.GIVEN_FEMALE)[0]
    return surname + given


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    id_number: str | None
    birth_year: int
    male: bool
    home: str  # code of the outlet or sub-branch they use


# --- when: a year of days with seasons, and hours of the day ------------------------------------

# Spring Festival (春节) dates.
LUNAR_NEW_YEAR = tuple(date.fromisoformat(d) for d in (
    "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26",
    "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11"))
_WEEKDAY = (1.15, 1.05, 1.0, 1.0, 1.0, 0.55, 0.45)
# Local hour weights: working hours busiest, a dip at lunch, quiet nights.
_HOURS_WORKDAY = (0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.9, 2.2, 4.5, 5.5, 5.0, 3.3, 3.8, 5.0,
                  5.2, 4.8, 3.8, 2.4, 2.0, 1.8, 1.5, 1.0, 0.5)
_HOURS_WEEKEND = (0.3, 0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.6, 1.2, 2.2, 2.8, 2.8, 2.2, 2.4, 2.6,
                  2.6, 2.4, 2.0, 1.8, 1.8, 1.8, 1.5, 1.0, 0.6)
_HOURS_OFFICE = tuple(w if 9 <= h <= 16 else 0.0 for h, w in enumerate(_HOURS_WORKDAY))
_OFFICE_CHANNELS = frozenset({"branch", "letter", "regulator"})


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Calendar:
    """The demo year: each day's weight and its event (春节, 双十一, 618, the outage week)."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.end = anchor_day(today)
        self.start = self.end - timedelta(days=DAYS - 1)
        self.days = [self.start + timedelta(days=i) for i in range(DAYS)]
        # The week the mobile app kept crashing after an upgrade.
        self.outage_start = self.days[rng.randrange(40, DAYS - 40)]
        weights: list[float] = []
        self.events: list[str | None] = []
        for i, day in enumerate(self.days):
            event, factor = self._event(day)
            trend = 0.9 + 0.2 * i / DAYS  # slowly more voices as more customers go digital
            weights.append(_WEEKDAY[day.weekday()] * factor * trend * rng.uniform(0.85, 1.15))
            self.events.append(event)
        self._cum = _cumulative(weights)

    def _event(self, day: date) -> tuple[str | None, float]:
        offset = (day - self.outage_start).days
        if 0 <= offset < 7:
            return "outage", 3.2 if offset < 3 else 2.0
        for festival in LUNAR_NEW_YEAR:
            delta = (day - festival).days
            if 0 <= delta < 3:
                return "spring", 0.8  # the first days of the holiday are quiet
            if -12 <= delta <= 10:
                return "spring", 1.6
        if day.month == 11 and 9 <= day.day <= 16:
            return "double11", 1.8 if day.day >= 11 else 1.3
        if day.month == 6 and 16 <= day.day <= 20:
            return "618", 1.3
        if day.month == 10 and day.day <= 7:
            return None, 0.6  # National Day holiday
        return None, 1.0

    def pick(self, rng: random.Random) -> tuple[date, str | None]:
        i = bisect.bisect_left(self._cum, rng.random() * self._cum[-1])
        return self.days[i], self.events[i]


# --- the records --------------------------------------------------------------------------------

_KINDS = (("complaint", 72.0), ("complaint_intent", 6.0), ("suggestion", 9.0),
          ("hard_question", 9.0), ("praise", 4.0))
_CHANNELS = (("hotline", 42.0), ("branch", 20.0), ("mobile_app", 13.0), ("wechat", 9.0),
             ("online_banking", 5.0), ("regulator", 3.0), ("letter", 2.0), ("email", 1.5),
             ("self_service", 1.5), ("web", 1.0), ("sms", 1.0), ("third_party", 1.0))
_OUTAGE_CHANNELS = (("mobile_app", 35.0), ("hotline", 40.0), ("wechat", 15.0),
                    ("online_banking", 5.0), ("web", 5.0))
_ENGLISH_CHANNELS = (("hotline", 40.0), ("email", 25.0), ("branch", 20.0), ("web", 15.0))
# How a bank file may spell a kind or channel (the intake vocabulary maps them).
_KIND_WORDS = {"complaint": "投诉", "complaint_intent": "投诉意向", "suggestion": "建议",
               "hard_question": "疑难", "praise": "表扬"}
_CHANNEL_WORDS = {"hotline": "客服热线", "branch": "网点", "mobile_app": "手机银行",
                  "wechat": "微信", "online_banking": "网上银行", "regulator": "监管转办",
                  "letter": "信函", "email": "电子邮件", "self_service": "自助机具",
                  "web": "官网", "sms": "短信", "third_party": "第三方渠道"}
_SIMPLE_SLOTS: dict[str, tuple[str, ...]] = {
    "merchant": phrases.MERCHANTS, "merchant_en": phrases.MERCHANTS_EN,
    "relative": phrases.RELATIVES, "staff": phrases.STAFF, "agent": phrases.AGENTS,
    "duration": phrases.DURATIONS,
    "duration_en": phrases.DURATIONS_EN, "days": phrases.DAYS, "count": phrases.COUNTS,
    "currency": phrases.CURRENCIES, "country": phrases.COUNTRIES,
    "phone_model": phrases.PHONE_MODELS, "app_action": phrases.APP_ACTIONS,
    "rate": phrases.RATES,
}
_FIRST_PERSON_CHANNELS = frozenset({"mobile_app", "wechat", "online_banking", "email", "web",
                                    "sms", "letter", "third_party"})


class _Choice(Generic[T]):
    """A weighted choice with its cumulative weights computed once."""

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in items]
        self.cum = _cumulative([w for _, w in items])

    def __call__(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]


class _Slots(dict[str, str]):
    """Slot values for one text: fixed ones given, the rest drawn when a template asks."""

    def __init__(self, gen: _Generator, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.gen = gen

    def __missing__(self, key: str) -> str:
        value = self.gen.slot(key)
        self[key] = value
        return value


class _Generator:
    def __init__(self, seed: int, today: date, taxonomy: Taxonomy) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.taxonomy = taxonomy
        self.calendar = Calendar(self.rng, today)
        self.kinds = _Choice(_KINDS)
        self.channels = _Choice(_CHANNELS)
        self.outage_channels = _Choice(_OUTAGE_CHANNELS)
        self.english_channels = _Choice(_ENGLISH_CHANNELS)
        self.hours_workday = _Choice(list(enumerate(_HOURS_WORKDAY)))
        self.hours_weekend = _Choice(list(enumerate(_HOURS_WEEKEND)))
        self.hours_office = _Choice(list(enumerate(_HOURS_OFFICE)))
        self.leaves = _Choice([(c, _ORGS[c].weight) for c in LEAF_CODES])
        self.complaints = _Choice([(s, s.weight) for s in phrases.COMPLAINTS if s.weight])
        self.by_event: dict[str, _Choice[Scenario]] = {}
        for event in ("spring", "double11", "outage"):
            self.by_event[event] = _Choice([(s, 1.0) for s in phrases.COMPLAINTS
                                            if s.event == event])
        # 618 (mid-year shopping festival): the shopping stories that do not name 双十一.
        self.by_event["618"] = _Choice([(s, 1.0) for s in phrases.COMPLAINTS
                                        if s.event == "double11" and s.weight])
        self.suggestions = _Choice([(s, s.weight) for s in phrases.SUGGESTIONS])
        self.questions = _Choice([(s, s.weight) for s in phrases.HARD_QUESTIONS])
        self.praise = _Choice([(s, s.weight) for s in phrases.PRAISE])
        self.english = {
            "complaint": _Choice([(s, s.weight) for s in phrases.ENGLISH]),
            "suggestion": _Choice([(s, s.weight) for s in phrases.ENGLISH_SUGGESTIONS]),
            "hard_question": _Choice([(s, s.weight) for s in phrases.ENGLISH_QUESTIONS]),
            "praise": _Choice([(s, s.weight) for s in phrases.ENGLISH_PRAISE]),
        }
        self.repeaters: list[Person] = []
        self.recent: list[dict[str, Any]] = []  # repeat complainants' latest records

    # -- slots ----------------------------------------------------------------------------------

    def slot(self, key: str) -> str:
        rng = self.rng
        if key in _SIMPLE_SLOTS:
            return rng.choice(_SIMPLE_SLOTS[key])
        if key == "tail":
            return f"尾号{rng.randrange(10_000):04d}"
        if key == "fund":
            return (rng.choice(phrases.FUND_PREFIX) + rng.choice(phrases.FUND_MIDDLE)
                    + rng.choice(phrases.FUND_SUFFIX))
        if key == "staffname":
            return _front_loaded(rng, phrases.SURNAMES) + rng.choice(phrases.STAFF_TITLES)
        if key == "version":
            return f"{rng.randint(7, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        if key == "age":
            return str(rng.randint(68, 91))
        if key in ("amount", "amount_en", "loss"):
            return _yuan(Decimal(rng.randrange(200, 20_000)), english=key == "amount_en")
        if key == "phone":
            return make_mobile(rng)
        if key == "card":
            return make_card_number(rng)
        raise KeyError(key)

    # -- one record -----------------------------------------------------------------------------

    def record(self, row: int) -> dict[str, Any]:
        if row == ANCHOR_ROW:
            return self._anchor()
        rng = self.rng
        if self.recent and rng.random() < 0.035:
            return self._repeat_of(rng.choice(self.recent), row)
        day, event = self.calendar.pick(rng)
        kind: str = self.kinds(rng)
        english = rng.random() < 0.05
        scenario = self._scenario(kind, english, event)
        if scenario.event == "outage":
            channel: str = self.outage_channels(rng)
        elif english:
            channel = self.english_channels(rng)
        else:
            channel = self.channels(rng)
        person, repeater = self._person(rng)
        org = self._org(channel, person)
        amount = self._amount(scenario)
        text = self._text(kind, scenario, english, channel, day, org, person, amount)
        record: dict[str, Any] = {
            "text": text,
            "kind": _KIND_WORDS[kind] if rng.random() < 0.12 else kind,
            "channel": _CHANNEL_WORDS[channel] if rng.random() < 0.12 else channel,
            "received_at": self._received_at(day, channel),
        }
        if rng.random() < 0.08:
            record["title"] = self._title(kind, scenario, english)
        if person is not None:
            if english and not repeater and rng.random() < 0.6:
                record["customer_name"] = rng.choice(phrases.ENGLISH_NAMES)
            elif repeater or rng.random() < 0.9:
                record["customer_name"] = person.name
            record["customer_phone"] = person.phone
            if person.id_number:
                record["customer_id_number"] = person.id_number
        if amount is not None and (rng.random() < 0.65 or amount >= 50_000):
            record["amount"] = amount
        if org is not None:
            record["org"] = _ORGS[org].name if rng.random() < 0.1 else org
        self._label(record, scenario, english)
        record["source_system"] = SOURCE_SYSTEM
        record["source_id"] = source_id(row)
        if repeater and kind in ("complaint", "complaint_intent"):
            self.recent.append(record)
            del self.recent[:-40]
        return record

    def _anchor(self) -> dict[str, Any]:
        return {
            "text": "表扬远程银行中心的客服热线，问题当场解决，服务很周到。",
            "kind": "praise", "channel": "hotline",
            "received_at": datetime.combine(self.calendar.end, time(16, 30)),
            "org": CONTACT_CENTRE, "source_system": SOURCE_SYSTEM,
            "source_id": source_id(ANCHOR_ROW),
        }

    def _repeat_of(self, earlier: dict[str, Any], row: int) -> dict[str, Any]:
        """The same customer with the same words again within the dedupe window."""
        rng = self.rng
        first = earlier["received_at"]
        later = first + timedelta(days=rng.randint(1, 20), minutes=rng.randint(-300, 300))
        latest = datetime.combine(self.calendar.end, time(23, 0))
        if later > latest:
            later = first - (later - first)
        record = dict(earlier)
        record["received_at"] = later
        record["channel"] = rng.choice(("hotline", "hotline", "branch", "mobile_app", "wechat",
                                        "regulator"))
        record["source_id"] = source_id(row)
        return record

    def _scenario(self, kind: str, english: bool, event: str | None) -> Scenario:
        rng = self.rng
        if english:
            return self.english.get(kind, self.english["complaint"])(rng)
        if kind == "suggestion":
            return self.suggestions(rng)
        if kind == "hard_question":
            return self.questions(rng)
        if kind == "praise":
            return self.praise(rng)
        share = {"outage": 0.7, "spring": 0.35, "double11": 0.4, "618": 0.25}
        if event is not None and rng.random() < share[event]:
            return self.by_event[event](rng)
        return self.complaints(rng)

    def _person(self, rng: random.Random) -> tuple[Person | None, bool]:
        draw = rng.random()
        if draw < 0.07:
            return None, False  # anonymous: no contact details were taken
        if draw < 0.25:
            if not self.repeaters or rng.random() < 0.22:
                self.repeaters.append(self._new_person(rng, with_id=0.75))
            # Recent repeaters come back most.
            back = int(rng.expovariate(1 / 12))
            count = len(self.repeaters)
            return self.repeaters[count - 1 - back if back < count else rng.randrange(count)], True
        return self._new_person(rng, with_id=0.5), False

    def _new_person(self, rng: random.Random, *, with_id: float) -> Person:
        male = rng.random() < 0.52
        home: str = self.leaves(rng)
        # Skewed to the middle-aged, with a tail of older customers.
        birth_year = min(2004, max(1940, int(rng.triangular(1940, 2004, 1978))))
        birth = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
        id_number = None
        if rng.random() < with_id:
            regions = _ORGS[home].regions if rng.random() < 0.7 else _OTHER_REGIONS
            id_number = make_id_number(rng, region=rng.choice(regions), birth=birth, male=male)
        return Person(name=make_name(rng, male=male), phone=make_mobile(rng),
                      id_number=id_number, birth_year=birth.year, male=male, home=home)

    def _org(self, channel: str, person: Person | None) -> str | None:
        rng = self.rng
        draw = rng.random()
        if draw < 0.04:
            return None  # left empty: the case belongs to the loader's org
        leaf: str = person.home if person is not None and rng.random() < 0.8 else self.leaves(rng)
        if channel == "hotline":
            return CONTACT_CENTRE if draw < 0.45 else leaf
        if channel in ("regulator", "letter", "email", "web"):
            return CONSUMER_PROTECTION if draw < 0.35 else branch_of(leaf)
        if channel in ("mobile_app", "online_banking", "wechat", "sms", "third_party"):
            return ROOT if draw < 0.15 else branch_of(leaf) if draw < 0.6 else leaf
        return leaf

    def _amount(self, scenario: Scenario) -> Decimal | None:
        if scenario.amount is None:
            return None
        rng = self.rng
        low, high = scenario.amount
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        if value >= 10_000:
            return Decimal(int(value / 1000) * 1000)
        if rng.random() < 0.3:
            return Decimal(f"{value:.2f}")
        return Decimal(int(value))

    def _received_at(self, day: date, channel: str) -> datetime:
        rng = self.rng
        if channel in _OFFICE_CHANNELS:
            hour: int = self.hours_office(rng)
        elif day.weekday() >= 5:
            hour = self.hours_weekend(rng)
        else:
            hour = self.hours_workday(rng)
        return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))

    # -- texts ----------------------------------------------------------------------------------

    def _text(self, kind: str, scenario: Scenario, english: bool, channel: str, day: date,
              org: str | None, person: Person | None, amount: Decimal | None) -> str:
        rng = self.rng
        place_org = org if org in LEAF_CODES else self.leaves(rng)
        place = _ORGS[place_org]
        incident = day - timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 5, 7, 10, 14)))
        slots = _Slots(self, {
            "place": place.name if rng.random() < 0.3 else place.name[2:],
            "place_en": place.name_en,
            "date": f"{incident.month}月{incident.day}日",
            "date_en": f"{incident:%B} {incident.day}",
        })
        if amount is not None:
            slots["amount"] = _yuan(amount, english=False)
            slots["amount_en"] = _yuan(amount, english=True)
            slots["loss"] = _yuan(Decimal(int(amount * Decimal(rng.uniform(0.05, 0.3)))),
                                  english=False)
        if english:
            return self._english_text(kind, scenario, slots)
        # Customers write in the first person; staff summarise in the third.
        first_person = channel in _FIRST_PERSON_CHANNELS and kind != "complaint_intent"
        slots["I"] = "我" if first_person else "其"
        slots["when"] = rng.choice((slots["date"], slots["date"], "上周", "前天", "昨天",
                                    "本月初", "上个月", slots["date"] + "上午",
                                    slots["date"] + "下午"))
        if person is not None:
            slots["surname"] = person.name[:2] if person.name[:2] in phrases.SURNAMES \
                else person.name[0]
            slots["title"] = "先生" if person.male else "女士"
            slots["phone"] = person.phone
            if person.id_number:
                slots["id_number"] = person.id_number
        else:
            slots["surname"], slots["title"] = "", "客户"
        core = rng.choice(scenario.texts)
        parts: list[str] = []
        if kind == "suggestion":
            parts += [rng.choice(phrases.SUGGESTION_OPENERS), core]
        elif kind == "hard_question":
            parts += [rng.choice(phrases.HARD_QUESTION_OPENERS), core]
        elif kind == "praise":
            parts.append(core)
        else:
            parts += self._complaint_parts(kind, scenario, core, first_person, channel, person)
        parts.append(self._personal_data(person))
        return "".join(parts).format_map(slots).replace("其的", "其")

    def _complaint_parts(self, kind: str, scenario: Scenario, core: str, first_person: bool,
                         channel: str, person: Person | None) -> list[str]:
        rng = self.rng
        if channel == "regulator":
            opener = rng.choice(phrases.OPENERS_REGULATOR)
        elif channel == "letter":
            opener = rng.choice(phrases.OPENERS_LETTER)
        elif first_person:
            opener = rng.choice(phrases.OPENERS_FIRST)
        elif channel == "hotline":
            opener = rng.choice(phrases.OPENERS_PHONE)
        else:
            opener = rng.choice(phrases.OPENERS_COUNTER)
        parts = [opener]
        age = self.today.year - person.birth_year if person is not None else 0
        if age >= 68 and rng.random() < 0.5:
            parts.append(rng.choice(phrases.VULNERABLE_SELF).replace("{age}", str(age)))
        elif rng.random() < 0.02:
            parts.append(rng.choice(phrases.VULNERABLE_OTHER))
        parts.append(core)
        details = phrases.CATEGORY_DETAILS.get(scenario.category, ())
        if details and rng.random() < 0.55:
            parts += rng.sample(details, min(len(details), 2 if channel == "letter" else 1))
        if rng.random() < 0.12:
            parts.append(rng.choice(phrases.EMOTIONS))
        parts.append(rng.choice(phrases.DEMANDS))
        if rng.random() < 0.04:
            parts.append(rng.choice(phrases.ESCALATIONS))
        if kind == "complaint_intent":
            before, after = rng.choice(phrases.INTENT_WRAP)
            parts = [before, *parts[1:], after]
        return parts

    def _english_text(self, kind: str, scenario: Scenario, slots: _Slots) -> str:
        rng = self.rng
        parts = [rng.choice(scenario.texts)]
        if kind in ("complaint", "complaint_intent"):
            parts.append(rng.choice(phrases.ENGLISH_DEMANDS))
            if rng.random() < 0.08:
                parts.append(rng.choice(phrases.ENGLISH_ESCALATIONS))
        return " ".join(p for p in parts if p).format_map(slots)

    def _personal_data(self, person: Person | None) -> str:
        """Now and then the customer's own number, a card number or their ID in the text."""
        rng = self.rng
        draw = rng.random()
        if person is not None and draw < 0.08:
            return rng.choice(phrases.PII_PHONE)
        if draw < 0.12:
            return rng.choice(phrases.PII_CARD)
        if person is not None and person.id_number and draw < 0.14:
            return rng.choice(phrases.PII_ID)
        return ""

    def _title(self, kind: str, scenario: Scenario, english: bool) -> str:
        term = self.taxonomy.product(scenario.product)
        if term is None or term.code == "other":
            name = "service" if english else "服务"
        else:
            name = term.en if english else term.zh
        if english:
            return f"{name}: {kind.replace('_', ' ')}"
        return f"关于{name}的{_KIND_WORDS[kind]}"

    def _label(self, record: dict[str, Any], scenario: Scenario, english: bool) -> None:
        """Some source systems label product and category; the rest is left to the classifier."""
        rng = self.rng
        for dimension, code in (("product", scenario.product), ("category", scenario.category)):
            draw = rng.random()
            term = (self.taxonomy.product(code) if dimension == "product"
                    else self.taxonomy.category(code))
            if term is None:  # a taxonomy without this term: the classifier decides
                continue
            if draw < 0.35:
                record[dimension] = term.code
            elif draw < 0.45:
                record[dimension] = term.en if english else term.zh


def _yuan(amount: Decimal, *, english: bool) -> str:
    if english:
        return f"CNY {amount:,}"
    if amount >= 10_000 and amount % 1000 == 0:
        return f"{(amount / 10_000).normalize():f}万元"
    return f"{amount:,}元" if amount >= 1000 else f"{amount}元"


def generate_records(n: int, seed: int, today: date) -> Iterator[tuple[int, dict[str, Any]]]:
    """`n` demo records as (row number, canonical raw fields) over the year before `today`."""
    generator = _Generator(seed, today, load_taxonomy())
    for row in range(1, n + 1):
        yield row, generator.record(row)
