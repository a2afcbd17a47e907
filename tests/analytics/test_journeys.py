"""Journey stages from (product, category), and pain points ranked by hand."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from bankvoc.analytics import journeys
from bankvoc.analytics.journeys import JourneysError
from bankvoc.cases.models import Case
from bankvoc.core.errors import Forbidden
from bankvoc.core.settings import reset_settings
from tests.analytics.conftest import Bank

SHIPPED = journeys.load_journeys()
# The shipped stages and mapping, ranking pain points from two cases on.
CONFIG = SHIPPED.model_copy(update={"ranking": SHIPPED.ranking.model_copy(
    update={"min_cases": 2})})


class TestStages:
    def test_a_mapped_pair_takes_its_stage(self) -> None:
        assert SHIPPED.stage_of("credit_card", "fee_dispute") == "card_use"
        assert SHIPPED.stage_of("personal_loan", "process_waiting") == "loan_application"

    def test_an_unmapped_pair_falls_to_its_category_s_stage_then_the_default(self) -> None:
        assert SHIPPED.stage_of("mortgage", "privacy") == "after_sales"
        assert SHIPPED.stage_of("wealth", "mis_selling") == "purchase"
        assert SHIPPED.stage_of(None, None) == SHIPPED.default_stage == "after_sales"

    def test_the_bank_s_own_file_set_in_the_environment_is_used(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        shipped = resources.files("bankvoc.analytics").joinpath("journeys.yaml").read_text(
            "utf-8")
        own = tmp_path / "journeys.yaml"
        own.write_text(shipped.replace(
            "{product: credit_card, category: fee_dispute, stage: card_use}",
            "{product: credit_card, category: fee_dispute, stage: after_sales}"), "utf-8")
        monkeypatch.setenv("BANKVOC_JOURNEYS_FILE", str(own))
        reset_settings()
        assert journeys.load_journeys().stage_of("credit_card", "fee_dispute") == "after_sales"

    def test_a_product_the_taxonomy_lacks_is_refused_with_its_line(self) -> None:
        text = ("version: x\nstages:\n  - {code: a, zh: 甲, en: A}\ndefault_stage: a\n"
                "pairs:\n  - {product: nope, category: fee_dispute, stage: a}\n")
        with pytest.raises(JourneysError) as refused:
            journeys.parse_journeys(text)
        assert refused.value.message == ("journeys.yaml line 6: pairs[0].product: 'nope' is "
                                          "not a product of the taxonomy")
        assert refused.value.field == "journeys"

    def test_an_unknown_stage_and_a_pair_given_twice_are_refused(self) -> None:
        text = ("version: x\nstages:\n  - {code: a, zh: 甲, en: A}\ndefault_stage: b\n"
                "pairs:\n  - {product: mortgage, category: fee_dispute, stage: a}\n"
                "  - {product: mortgage, category: fee_dispute, stage: a}\n")
        with pytest.raises(JourneysError) as refused:
            journeys.parse_journeys(text)
        assert [(p.line, p.path) for p in refused.value.problems] == [
            (4, "default_stage"), (7, "pairs[1]")]


@pytest.fixture
def pains(bank: Bank) -> Bank:
    """Complaints received in October 2026 (stage; cases; severe; callback CSATs; sentiments):

    - X credit_card / fee_dispute → card_use; 4; 1; 1 and 5; −0.5 −0.5 0.1 0.1
    - Y personal_loan / process_waiting → loan_application; 3; 2; none; −0.9, two unscored
    - Z mortgage / privacy → after_sales (the category's default); 2; 0; 2; unscored
    - W debit_card / service_attitude → after_sales; 1; 0; none; −1.0
    Not counted: a suggestion (X's pair), a merged duplicate (X's pair), one in November.
    """
    def add(product: str, category: str, *, severity: str = "general",
            sentiment: float | None = None, day: str = "2026-10-10", **fields: object) -> Case:
        case = bank.case("BJ", day, product=product, category=category,
                         sentiment=sentiment, **fields)  # type: ignore[arg-type]
        case.severity = severity
        return case

    x = [add("credit_card", "fee_dispute", severity="important", sentiment=-0.5),
         add("credit_card", "fee_dispute", sentiment=-0.5),
         add("credit_card", "fee_dispute", sentiment=0.1),
         add("credit_card", "fee_dispute", sentiment=0.1)]
    bank.callback(x[0], csat=1)
    bank.callback(x[1], csat=5)
    add("personal_loan", "process_waiting", severity="urgent", sentiment=-0.9)
    add("personal_loan", "process_waiting", severity="major")
    add("personal_loan", "process_waiting")
    z = add("mortgage", "privacy")
    add("mortgage", "privacy")
    bank.callback(z, csat=2)
    add("debit_card", "service_attitude", sentiment=-1.0)
    add("credit_card", "fee_dispute", severity="major", sentiment=-1.0, kind="suggestion")
    add("credit_card", "fee_dispute", severity="major", sentiment=-1.0, merged_into_id=x[0].id)
    add("credit_card", "fee_dispute", severity="major", sentiment=-1.0, day="2026-11-02")
    bank.session.flush()
    return bank


def _table(report: journeys.PainPointReport) -> list[tuple[object, ...]]:
    return [(p.rank, p.stage, p.category, p.cases, p.volume_rank, p.severity_rank,
             p.dissatisfaction_rank, None if p.score is None else round(p.score, 4))
            for p in report.points]


class TestPainPoints:
    def test_ranked_by_volume_severity_and_dissatisfaction(self, pains: Bank) -> None:
        # volume: X 4 → 1, Y 3 → 2, Z 2 → 3; severity: Y 2/3 → 1, X 1/4 → 2, Z 0 → 3;
        # dissatisfaction: Y (sentiment 1/1) 1.0 and Z (CSAT 1/1) 1.0 → 1, X (CSAT 1/2,
        # sentiment 2/4) 0.5 → 3. Scores: Y (2+1+1)/3, X (1+2+3)/3, Z (3+3+1)/3; W: 1 case.
        report = journeys.pain_points(pains.session, actor=pains.world.actor("hq_admin"),
                                      period="2026-10", journeys=CONFIG)
        assert _table(report) == [
            (1, "loan_application", "process_waiting", 3, 2, 1, 1, 1.3333),
            (2, "card_use", "fee_dispute", 4, 1, 2, 3, 2.0),
            (3, "after_sales", "privacy", 2, 3, 3, 1, 2.3333),
            (None, "after_sales", "service_attitude", 1, None, None, None, None)]
        x = report.points[1]
        assert (x.severity, x.low_csat_share, x.negative_share, x.dissatisfaction) == (
            0.25, 0.5, 0.5, 0.5)
        assert [(s.stage, s.label, s.cases) for s in report.stages] == [
            ("loan_application", "贷款申请", 3), ("card_use", "用卡", 4),
            ("after_sales", "售后服务", 3)]
        assert report.points[0].category_label == "流程繁琐与等待"

    def test_weights_change_the_order_and_ties_go_to_volume(self, pains: Bank) -> None:
        # volume ×3: X (3·1 + 2 + 3)/5 = 1.6 = Y (3·2 + 1 + 1)/5; X has more cases.
        heavy = CONFIG.model_copy(update={"ranking": CONFIG.ranking.model_copy(update={
            "weights": journeys.Weights(volume=3.0, severity=1.0, dissatisfaction=1.0)})})
        report = journeys.pain_points(pains.session, actor=pains.world.actor("hq_admin"),
                                      period="2026-10", journeys=heavy, lang="en")
        assert [(p.rank, p.stage, p.score) for p in report.points[:2]] == [
            (1, "card_use", 1.6), (2, "loan_application", 1.6)]
        assert report.points[0].stage_label == "Card use"

    def test_only_the_actor_s_subtree_counts(self, pains: Bank) -> None:
        report = journeys.pain_points(pains.session, actor=pains.world.actor("sh_handler"),
                                      period="2026-10", journeys=CONFIG)
        assert report.points == []
        with pytest.raises(Forbidden):
            journeys.pain_points(pains.session, actor=pains.world.actor("sh_handler"),
                                 period="2026-10", org="BJ", journeys=CONFIG)

    def test_the_shipped_minimum_leaves_small_groups_unranked(self, pains: Bank) -> None:
        report = journeys.pain_points(pains.session, actor=pains.world.actor("hq_admin"),
                                      period="2026-10")
        assert [p.rank for p in report.points] == [None, None, None, None]
        assert [p.cases for p in report.points] == [4, 3, 2, 1]
