from __future__ import annotations

import random
import re
import string
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.customers import masking
from bankvoc.customers.masking import id_check_char
from bankvoc.demo import generator, phrases
from bankvoc.demo.generator import (
    ORG_SPECS,
    USER_SPECS,
    generate_records,
    make_card_number,
    make_id_number,
    make_mobile,
    make_name,
)
from bankvoc.intake.schemas import CaseCreate
from bankvoc.nlp import grading, pii, text
from bankvoc.nlp.keywords import KeywordClassifier, classifier_for
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs.enums import OrgKind, Role

TODAY = date(2025, 6, 30)
N = 2_000
Record = dict[str, Any]


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return [raw for _, raw in generate_records(N, generator.DEFAULT_SEED, TODAY)]


@pytest.fixture(scope="module")
def cases(records: list[Record]) -> list[CaseCreate]:
    return [CaseCreate.model_validate(raw) for raw in records]


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    return classifier_for(load_taxonomy())


def _rng() -> random.Random:
    return random.Random(7)


class TestGenerateRecords:
    def test_the_same_seed_and_day_give_the_same_records(self, records: list[Record]) -> None:
        again = [raw for _, raw in generate_records(N, generator.DEFAULT_SEED, TODAY)]
        assert again == records

    def test_another_seed_gives_other_records(self, records: list[Record]) -> None:
        other = [raw for _, raw in generate_records(50, 1, TODAY)]
        assert [r["text"] for r in other[1:]] != [r["text"] for r in records[1:50]]

    def test_a_smaller_run_is_the_start_of_a_larger_one(self, records: list[Record]) -> None:
        assert [raw for _, raw in generate_records(300, generator.DEFAULT_SEED, TODAY)] \
            == records[:300]

    def test_rows_are_numbered_with_demo_source_ids(self) -> None:
        rows = list(generate_records(3, generator.DEFAULT_SEED, TODAY))
        assert [row for row, _ in rows] == [1, 2, 3]
        assert [(r["source_system"], r["source_id"]) for _, r in rows] == [
            ("demo", "DEMO-0000001"), ("demo", "DEMO-0000002"), ("demo", "DEMO-0000003")]

    def test_every_record_is_a_valid_case(self, records: list[Record]) -> None:
        for raw in records:
            case = CaseCreate.model_validate(raw)  # raises on the first invalid record
            assert case.source_system == "demo"
            assert case.text

    def test_row_one_is_the_anchor_received_the_day_before_today(
        self, records: list[Record]
    ) -> None:
        anchor = records[0]
        assert anchor["received_at"].date() == TODAY - timedelta(days=1)
        assert not {"customer_name", "customer_phone", "customer_id_number"} & set(anchor)
        assert generator.today_from_anchor(anchor["received_at"].date()) == TODAY

    def test_receipt_times_cover_the_twelve_months_before_today(
        self, records: list[Record]
    ) -> None:
        times = [r["received_at"] for r in records]
        assert min(times) >= datetime.combine(TODAY - timedelta(days=365), datetime.min.time())
        assert max(times) < datetime.combine(TODAY, datetime.min.time())
        assert len({(t.year, t.month) for t in times}) >= 12

    def test_working_hours_and_weekdays_are_busiest(self, records: list[Record]) -> None:
        hours = Counter(r["received_at"].hour for r in records)
        days = Counter(r["received_at"].weekday() for r in records)
        assert sum(hours[h] for h in range(9, 17)) > 0.6 * N
        assert sum(hours[h] for h in range(0, 6)) < 0.03 * N
        assert days[0] > 1.5 * days[6]

    def test_covers_ten_products_and_ten_categories_of_the_taxonomy(
        self, records: list[Record], classifier: KeywordClassifier
    ) -> None:
        taxonomy = load_taxonomy()
        predictions = [classifier.predict(r["text"]) for r in records]
        found = [(p["product"].code, p["category"].code) for p in predictions]
        assert len({p for p, _ in found}) >= 10
        assert len({c for _, c in found}) >= 10
        assert {p for p, _ in found} <= {t.code for t in taxonomy.products}

    def test_some_labels_are_given_and_the_rest_left_to_the_classifier(
        self, records: list[Record]
    ) -> None:
        taxonomy = load_taxonomy()
        given = [r["product"] for r in records if "product" in r]
        assert 0.3 * N < len(given) < 0.6 * N
        assert all(taxonomy.find("product", value) is not None for value in given)
        assert all(taxonomy.find("category", r["category"]) is not None
                   for r in records if "category" in r)

    def test_texts_hold_the_keywords_of_their_given_labels(
        self, records: list[Record], classifier: KeywordClassifier
    ) -> None:
        taxonomy = load_taxonomy()
        for dimension in ("product", "category"):
            pairs = [(classifier.predict(r["text"])[dimension].code,
                      taxonomy.find(dimension, r[dimension]))
                     for r in records if dimension in r]
            agree = sum(term is not None and predicted == term.code for predicted, term in pairs)
            assert agree >= 0.95 * len(pairs), dimension

    def test_channels_are_weighted_with_the_hotline_first(self, cases: list[CaseCreate]) -> None:
        channels = Counter(c.channel for c in cases)
        assert len(channels) >= 5
        assert channels.most_common(1)[0][0] == "hotline"
        assert 0.01 * N < channels[Channel.regulator] < 0.06 * N

    def test_kinds_include_complaints_suggestions_questions_intents_and_praise(
        self, cases: list[CaseCreate]
    ) -> None:
        kinds = Counter(c.kind for c in cases)
        assert set(kinds) == set(CaseKind)
        assert kinds.most_common(1)[0][0] == CaseKind.complaint

    def test_about_one_in_twenty_is_english(self, records: list[Record]) -> None:
        english = sum(text.language(r["text"]) == "en" for r in records)
        assert 0.03 * N < english < 0.075 * N

    def test_texts_are_varied(self, records: list[Record]) -> None:
        assert len({r["text"] for r in records}) > 0.75 * N

    def test_repeat_complainants_come_back_with_the_same_phone_and_id(
        self, records: list[Record]
    ) -> None:
        by_phone: dict[str, set[str | None]] = {}
        for r in records:
            if "customer_phone" in r:
                by_phone.setdefault(r["customer_phone"], set()).add(r.get("customer_id_number"))
        counts = Counter(r["customer_phone"] for r in records if "customer_phone" in r)
        repeaters = [phone for phone, n in counts.items() if n >= 3]
        assert len(repeaters) >= 20
        assert all(len(by_phone[phone]) == 1 for phone in repeaters)

    def test_some_repeats_have_the_same_words_within_thirty_days(
        self, records: list[Record]
    ) -> None:
        first: dict[tuple[str, str], datetime] = {}
        repeats = 0
        for r in records:
            if "customer_phone" not in r:
                continue
            key = (r["customer_phone"], r["text"])
            if key in first and abs(r["received_at"] - first[key]) <= timedelta(days=30):
                repeats += 1
            first.setdefault(key, r["received_at"])
        assert repeats >= 0.02 * N

    def test_amounts_are_decimals_often_absent_some_large(self, records: list[Record]) -> None:
        amounts = [r["amount"] for r in records if "amount" in r]
        assert all(isinstance(a, Decimal) and a > 0 for a in amounts)
        assert 0.2 * N < len(amounts) < 0.6 * N
        assert sum(Decimal(50_000) <= a <= Decimal(500_000) for a in amounts) >= 0.03 * N

    def test_some_texts_hold_personal_data_to_mask(self, records: list[Record]) -> None:
        kinds = Counter(span.type for r in records for span in pii.find_pii(r["text"]))
        assert kinds["mobile"] >= 0.03 * N
        assert kinds["bank_card"] >= 0.02 * N
        assert kinds["id_number"] >= 1

    def test_some_complaints_escalate_or_concern_vulnerable_customers(
        self, records: list[Record]
    ) -> None:
        reasons = " ".join(r for rec in records for r in grading.grade(rec["text"],
                                                                        amount=None).reasons)
        assert reasons.count("threatens to escalate") >= 0.02 * N
        assert reasons.count("vulnerable customer") >= 0.02 * N
        assert "老人" in reasons

    def test_the_outage_week_brings_many_app_crash_complaints(
        self, records: list[Record]
    ) -> None:
        crashes = Counter(r["received_at"].date() for r in records if "闪退" in r["text"])
        busiest_week = max(sum(crashes[day + timedelta(days=i)] for i in range(7))
                           for day in crashes)
        assert busiest_week > 0.5 * sum(crashes.values())

    def test_spring_festival_and_double_eleven_are_busier(self, records: list[Record]) -> None:
        per_day = Counter(r["received_at"].date() for r in records)
        average = N / 365
        festival = date(2025, 1, 29)
        spring = sum(per_day[festival + timedelta(days=d)] for d in range(-12, -1)) / 11
        double11 = sum(per_day[date(2024, 11, d)] for d in range(11, 16)) / 5
        assert spring > 1.2 * average
        assert double11 > 1.3 * average


class TestIdCheckChar:
    def test_computes_the_gb11643_check_character(self) -> None:
        assert id_check_char("11010519491231002") == "X"

    def test_only_its_character_passes_the_checksum(self) -> None:
        rng = _rng()
        for _ in range(200):
            first17 = "".join(rng.choice(string.digits) for _ in range(17))
            right = id_check_char(first17)
            assert masking.id_checksum_ok(first17 + right)
            assert not any(masking.id_checksum_ok(first17 + c) for c in "0123456789X" if c != right)


class TestMakeIdNumber:
    def test_is_18_characters_with_a_valid_checksum(self) -> None:
        rng = _rng()
        numbers = [make_id_number(rng, region="310115", birth=date(1940 + i % 65, 3, 9),
                                  male=i % 2 == 0) for i in range(200)]
        assert all(len(n) == 18 and masking.id_checksum_ok(n) for n in numbers)
        assert all(CaseCreate(text="x", customer_id_number=n).customer_id_number == n
                   for n in numbers)

    def test_carries_region_birth_date_and_sex(self) -> None:
        number = make_id_number(_rng(), region="440106", birth=date(1962, 7, 1), male=False)
        assert number[:6] == "440106"
        assert number[6:14] == "19620701"
        assert int(number[16]) % 2 == 0

    def test_generated_people_are_born_1940_to_2004_in_real_regions(
        self, records: list[Record]
    ) -> None:
        regions = {r for spec in ORG_SPECS for r in spec.regions} \
            | set(generator._OTHER_REGIONS)
        numbers = {r["customer_id_number"] for r in records if "customer_id_number" in r}
        assert len(numbers) > 100
        assert all(1940 <= int(n[6:10]) <= 2004 and n[:6] in regions for n in numbers)
        assert all(masking.id_checksum_ok(n) for n in numbers)


class TestMakeMobile:
    def test_is_a_valid_mainland_mobile(self) -> None:
        rng = _rng()
        phones = [make_mobile(rng) for _ in range(500)]
        assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
        assert all(masking.valid_phone(p) for p in phones)
        assert len(set(phones)) == 500


class TestMakeCardNumber:
    def test_passes_the_luhn_check_and_is_masked_in_text(self) -> None:
        rng = _rng()
        cards = [make_card_number(rng) for _ in range(200)]
        assert all(len(c) in (16, 19) and pii.luhn_ok(c) for c in cards)
        assert all(pii.find_pii(f"卡号{c}。")[0].type == "bank_card" for c in cards)


class TestMakeName:
    def test_is_a_chinese_surname_and_given_name(self) -> None:
        rng = _rng()
        names = [make_name(rng, male=i % 2 == 0) for i in range(300)]
        assert all(2 <= len(n) <= 4 and not set(n) & set(string.ascii_letters) for n in names)
        assert all(n.startswith(phrases.SURNAMES) for n in names)
        assert len(set(names)) > 200


class TestOrgSpecs:
    def test_at_least_five_branches_each_with_two_to_four_outlets(self) -> None:
        branches = [o.code for o in ORG_SPECS if o.kind == OrgKind.branch]
        assert len(branches) >= 5
        for code in branches:
            children = [o for o in ORG_SPECS if o.parent == code]
            assert 2 <= len(children) <= 4
            assert all(o.kind in (OrgKind.sub_branch, OrgKind.outlet) for o in children)

    def test_head_office_has_a_contact_centre_and_consumer_protection(self) -> None:
        under_hq = {o.kind: o for o in ORG_SPECS if o.parent == generator.ROOT}
        assert "中心" in under_hq[OrgKind.centre].name
        assert "消费者权益保护" in under_hq[OrgKind.department].name

    def test_parents_come_before_their_children_and_codes_are_unique(self) -> None:
        seen = {generator.ROOT}
        for spec in ORG_SPECS:
            assert spec.parent in seen
            assert spec.code not in seen
            seen.add(spec.code)


class TestUserSpecs:
    def test_every_role_has_a_demo_user_at_a_sensible_org(self) -> None:
        by_role = {role: spec for spec in USER_SPECS for role in spec.roles}
        assert set(by_role) == set(Role)
        kinds = {o.code: o.kind for o in ORG_SPECS}
        assert by_role[Role.cpo].org == generator.ROOT  # sees the whole bank
        assert by_role[Role.analyst].org == generator.ROOT
        assert kinds[by_role[Role.agent].org] == OrgKind.centre
        assert kinds[by_role[Role.handler].org] == OrgKind.branch
        assert kinds[by_role[Role.branch_manager].org] == OrgKind.outlet


class TestScenarios:
    def test_each_text_is_classified_as_its_scenario(
        self, classifier: KeywordClassifier
    ) -> None:
        groups = (phrases.COMPLAINTS, phrases.SUGGESTIONS, phrases.HARD_QUESTIONS,
                  phrases.PRAISE, phrases.ENGLISH, phrases.ENGLISH_SUGGESTIONS,
                  phrases.ENGLISH_QUESTIONS, phrases.ENGLISH_PRAISE)
        for scenario in (s for group in groups for s in group):
            for wording in scenario.texts:
                predicted = classifier.predict(wording)
                assert predicted["product"].code == scenario.product, wording
                assert predicted["category"].code == scenario.category, wording

    def test_shared_fragments_name_no_product_or_category(
        self, classifier: KeywordClassifier
    ) -> None:
        fragments = (*phrases.OPENERS_FIRST, *phrases.OPENERS_PHONE, *phrases.OPENERS_COUNTER,
                     *phrases.OPENERS_REGULATOR, *phrases.OPENERS_LETTER, *phrases.DEMANDS,
                     *phrases.EMOTIONS, *phrases.ESCALATIONS, *phrases.VULNERABLE_SELF,
                     *phrases.VULNERABLE_OTHER, *phrases.PII_PHONE, *phrases.PII_CARD,
                     *phrases.PII_ID, *(w for pair in phrases.INTENT_WRAP for w in pair),
                     *phrases.ENGLISH_DEMANDS, *phrases.ENGLISH_ESCALATIONS)
        for fragment in fragments:
            predicted = classifier.predict(fragment)
            assert not predicted["product"].words, fragment
            assert not predicted["category"].words, fragment

    def test_category_details_name_their_category_and_no_product(
        self, classifier: KeywordClassifier
    ) -> None:
        for category, details in phrases.CATEGORY_DETAILS.items():
            for detail in details:
                assert not classifier.predict(detail)["product"].words, detail
                if category != "other":
                    assert classifier.predict(detail)["category"].code == category, detail

    def test_products_and_categories_are_codes_of_the_taxonomy(self) -> None:
        taxonomy = load_taxonomy()
        groups = (phrases.COMPLAINTS, phrases.SUGGESTIONS, phrases.HARD_QUESTIONS,
                  phrases.PRAISE, phrases.ENGLISH, phrases.ENGLISH_SUGGESTIONS,
                  phrases.ENGLISH_QUESTIONS, phrases.ENGLISH_PRAISE)
        scenarios = [s for group in groups for s in group]
        assert {s.product for s in scenarios} == {t.code for t in taxonomy.products}
        assert {s.category for s in scenarios} == {t.code for t in taxonomy.categories}

    def test_texts_that_name_an_amount_have_an_amount_range(self) -> None:
        for scenario in phrases.COMPLAINTS + phrases.ENGLISH:
            if any("{amount" in t or "{loss}" in t for t in scenario.texts):
                assert scenario.amount is not None, scenario.texts[0]
