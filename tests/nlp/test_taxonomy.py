"""The taxonomy file: what ships, what it maps to, and how a bad file is refused."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bankvoc.api.app import create_app
from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.cli import app
from bankvoc.core.db import build_engine
from bankvoc.core.errors import Invalid
from bankvoc.core.i18n import t
from bankvoc.core.settings import reset_settings
from bankvoc.nlp.pipeline import TextAnalyzer
from bankvoc.nlp.taxonomy import (
    JrtCodes,
    Taxonomy,
    TaxonomyError,
    load_taxonomy,
    parse_taxonomy,
    read_taxonomy,
)
from bankvoc.nlp.taxonomy_cli import taxonomy_app

runner = CliRunner()

# The smallest taxonomy the checks accept; each refusal below changes one thing in it.
MINIMAL = """\
version: "test-1"
standard:
  id: JR/T 0169-2018
  zh: 金融消费者投诉统计分类及编码
  en: Complaint classification
  channel:
    - {code: branch, zh: 营业网点, en: Branch counter}
    - {code: other, zh: 其他, en: Other}
  business:
    - {code: credit_card, zh: 信用卡, en: Credit card}
    - {code: other, zh: 其他, en: Other}
  cause:
    - {code: pricing_fees, zh: 定价收费, en: Pricing and fees}
    - {code: other, zh: 其他, en: Other}
bulletin_categories:
  - {code: credit_card, zh: 信用卡, en: Credit card}
  - {code: other, zh: 其他, en: Other}
kinds:
  - {code: complaint, zh: 投诉, en: Complaint, keywords: [投诉]}
channels:
  - {code: branch, zh: 网点柜面, en: Branch, jrt_channel: branch}
  - {code: other, zh: 其他, en: Other, jrt_channel: other}
products:
  - code: credit_card
    zh: 信用卡
    en: Credit card
    jrt_business: credit_card
    bulletin: credit_card
    keywords: [信用卡, 年费]
  - code: other
    zh: 其他
    en: Other
    jrt_business: other
    bulletin: other
categories:
  - code: fee_dispute
    zh: 收费争议
    en: Fee dispute
    jrt_cause: pricing_fees
    keywords: [年费, 手续费]
  - code: other
    zh: 其他
    en: Other
    jrt_cause: other
"""


def edit(old: str, new: str, text: str = MINIMAL) -> str:
    """`text` with the one occurrence of `old` replaced."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, pattern: str, nth: int = 1) -> int:
    """The 1-based number of the nth line that `pattern` (a regular expression) matches."""
    found = [i for i, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]
    return found[nth - 1]


def refusal(text: str) -> TaxonomyError:
    with pytest.raises(TaxonomyError) as caught:
        parse_taxonomy(text)
    return caught.value


class TestShippedTaxonomy:
    def test_loads_with_a_version(self) -> None:
        taxonomy = load_taxonomy()
        assert taxonomy.version
        assert taxonomy.standard.id == "JR/T 0169-2018"

    def test_kinds_are_exactly_the_case_kinds(self) -> None:
        assert [k.code for k in load_taxonomy().kinds] == [k.value for k in CaseKind]

    def test_channels_are_exactly_the_case_channels(self) -> None:
        assert [c.code for c in load_taxonomy().channels] == [c.value for c in Channel]

    def test_kinds_and_channels_carry_the_names_the_pages_show(self) -> None:
        taxonomy = load_taxonomy()
        for namespace, entries in (("kind", taxonomy.kinds), ("channel", taxonomy.channels)):
            for entry in entries:
                assert (entry.zh, entry.en) == (t(f"{namespace}.{entry.code}", "zh"),
                                                t(f"{namespace}.{entry.code}", "en"))

    def test_every_kind_has_keywords(self) -> None:
        assert all(k.keywords for k in load_taxonomy().kinds)

    def test_every_product_has_a_jrt_business_type_and_a_bulletin_category(self) -> None:
        taxonomy = load_taxonomy()
        business = {e.code for e in taxonomy.standard.business}
        bulletin = {e.code for e in taxonomy.bulletin_categories}
        for product in taxonomy.products:
            assert product.jrt_business in business, product.code
            assert product.bulletin in bulletin, product.code

    def test_every_category_has_a_jrt_cause(self) -> None:
        taxonomy = load_taxonomy()
        causes = {e.code for e in taxonomy.standard.cause}
        assert all(c.jrt_cause in causes for c in taxonomy.categories)

    def test_every_channel_has_a_jrt_channel(self) -> None:
        taxonomy = load_taxonomy()
        channels = {e.code for e in taxonomy.standard.channel}
        assert all(c.jrt_channel in channels for c in taxonomy.channels)

    def test_every_list_but_the_kinds_has_other(self) -> None:
        taxonomy = load_taxonomy()
        for entries in (taxonomy.standard.channel, taxonomy.standard.business,
                        taxonomy.standard.cause, taxonomy.bulletin_categories,
                        taxonomy.channels, taxonomy.products, taxonomy.categories):
            assert "other" in {e.code for e in entries}

    def test_the_three_dimensions_hold_the_standards_entries(self) -> None:
        standard = load_taxonomy().standard
        assert {"营业网点", "自助机具", "网上银行", "手机银行", "电话银行", "其他"} <= {
            e.zh for e in standard.channel}
        assert {"人民币储蓄", "借记卡", "信用卡", "贷款", "支付结算", "银行代理业务",
                "个人金融信息", "外汇", "人民币管理", "理财", "征信", "其他"} <= {
            e.zh for e in standard.business}
        assert {"服务态度及服务质量", "业务规定及流程", "营销方式和手段", "信息披露", "自主选择权",
                "定价收费", "合同条款", "消费者资金安全", "个人金融信息", "债务催收",
                "其他"} <= {e.zh for e in standard.cause}


class TestJrtCodes:
    def test_a_credit_card_fee_complaint_by_hotline(self) -> None:
        codes = load_taxonomy().jrt_codes(product="credit_card", category="fee_dispute",
                                          channel="hotline")
        assert codes == JrtCodes(channel="telephone_banking", business="credit_card",
                                 cause="pricing_fees")

    def test_missing_or_unknown_values_count_as_other(self) -> None:
        taxonomy = load_taxonomy()
        assert taxonomy.jrt_codes() == JrtCodes("other", "other", "other")
        assert taxonomy.jrt_codes(product="gold", category="nope",
                                  channel="pigeon") == JrtCodes("other", "other", "other")

    def test_codes_have_names_in_the_standard(self) -> None:
        taxonomy = load_taxonomy()
        entry = taxonomy.standard.entry("cause", taxonomy.jrt_codes(category="fee_dispute").cause)
        assert entry is not None
        assert entry.label("zh") == "定价收费"

    def test_the_standard_has_only_three_dimensions(self) -> None:
        with pytest.raises(ValueError, match="no dimension"):
            load_taxonomy().standard.entry("product", "credit_card")


class TestBulletinCategory:
    def test_a_mortgage_counts_as_a_personal_loan(self) -> None:
        entry = load_taxonomy().bulletin_category("mortgage")
        assert (entry.code, entry.zh) == ("personal_loan", "个人贷款")

    @pytest.mark.parametrize("product", [None, "", "gold"])
    def test_a_missing_or_unknown_product_counts_as_other(self, product: str | None) -> None:
        assert load_taxonomy().bulletin_category(product).code == "other"


class TestFind:
    @pytest.mark.parametrize(("dimension", "raw", "code"), [
        ("product", "信用卡", "credit_card"),
        ("product", " Credit Card ", "credit_card"),
        ("category", "fee_dispute", "fee_dispute"),
        ("kind", "表扬", "praise"),
        ("channel", "Hotline", "hotline"),
    ])
    def test_by_code_chinese_or_english_name(self, dimension: str, raw: str, code: str) -> None:
        found = load_taxonomy().find(dimension, raw)
        assert found is not None
        assert found.code == code

    def test_an_unknown_name_is_not_found(self) -> None:
        assert load_taxonomy().find("product", "黄金") is None

    def test_an_unknown_dimension_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no dimension"):
            load_taxonomy().find("colour", "red")

    def test_product_category_kind_and_channel_by_code(self) -> None:
        taxonomy = load_taxonomy()
        assert taxonomy.product("mortgage") is not None
        assert taxonomy.category("privacy") is not None
        assert taxonomy.kind("suggestion") is not None
        assert taxonomy.channel("wechat") is not None
        assert taxonomy.product("nope") is None


class TestRefusals:
    def test_the_minimal_file_is_accepted(self) -> None:
        taxonomy = parse_taxonomy(MINIMAL)
        assert taxonomy.counts()["products"] == 2

    def test_kinds_need_no_other(self) -> None:
        assert "other" not in {k.code for k in parse_taxonomy(MINIMAL).kinds}

    def test_a_refusal_is_invalid_input(self) -> None:
        error = refusal(edit("bulletin: credit_card", "bulletin: xyz"))
        assert isinstance(error, Invalid)
        assert (error.status, error.code, error.field) == (422, "taxonomy_invalid", "taxonomy")

    def test_bad_yaml_names_its_line(self) -> None:
        text = edit("    en: Credit card\n", "    en: Credit: card\n")
        error = refusal(text)
        assert error.message.startswith(f"taxonomy.yaml line {line_of(text, 'Credit: card')}: "
                                        "not valid YAML")

    def test_an_empty_file_is_refused_at_line_1(self) -> None:
        error = refusal("")
        assert error.message == ("taxonomy.yaml line 1: should be a mapping of fields "
                                 "(key: value), not nothing")

    def test_a_missing_field_names_the_entry_that_lacks_it(self) -> None:
        text = edit("    zh: 收费争议\n", "")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, 'code: fee_dispute')}: "
                                 "categories[0].zh: is required but missing")

    def test_a_wrong_type_names_the_field(self) -> None:
        text = edit("keywords: [信用卡, 年费]", "keywords: 信用卡")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, 'keywords: 信用卡')}: "
                                 "products[0].keywords: Input should be a valid list "
                                 "(got '信用卡')")

    def test_a_version_that_yaml_reads_as_a_number_must_be_quoted(self) -> None:
        error = refusal(edit('version: "test-1"', "version: 2026.12"))
        assert error.message.startswith("taxonomy.yaml line 1: version: Input should be a valid "
                                        "string")

    def test_an_unquoted_impossible_date_is_refused_at_its_line(self) -> None:
        error = refusal(edit('version: "test-1"', "version: 2026-13-01"))
        assert error.message == ("taxonomy.yaml line 1: version: '2026-13-01' reads as a date but "
                                 "is not one (month must be in 1..12): correct the date, or put "
                                 "it in quotes if it is text")

    def test_a_quoted_date_like_version_is_text(self) -> None:
        assert parse_taxonomy(edit('version: "test-1"', 'version: "2026-13-01"')).version == (
            "2026-13-01")

    def test_a_code_must_be_lower_snake_case(self) -> None:
        text = edit("code: fee_dispute", "code: Fee Dispute")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, 'Fee Dispute')}: "
                                 "categories[0].code: 'Fee Dispute' is not a valid code: use "
                                 "lower_snake_case, e.g. credit_card")

    def test_a_misspelt_field_is_refused(self) -> None:
        text = edit("jrt_business: credit_card", "jrt_busines: credit_card")
        error = refusal(text)
        assert error.problems[0].path == "products[0].jrt_busines"
        assert error.problems[0].line == line_of(text, "jrt_busines:")
        assert "not a field" in error.problems[0].reason

    def test_an_unknown_bulletin_category_lists_the_known_ones(self) -> None:
        text = edit("bulletin: credit_card", "bulletin: xyz")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, 'bulletin: xyz')}: "
                                 "products[0].bulletin: 'xyz' is not a bulletin category "
                                 "(known: credit_card, other)")

    @pytest.mark.parametrize(("old", "new", "path", "what"), [
        ("jrt_business: credit_card", "jrt_business: cards", "products[0].jrt_business",
         "'cards' is not a JR/T 0169-2018 business type"),
        ("jrt_cause: pricing_fees", "jrt_cause: fees", "categories[0].jrt_cause",
         "'fees' is not a JR/T 0169-2018 cause"),
        ("jrt_channel: branch", "jrt_channel: counter", "channels[0].jrt_channel",
         "'counter' is not a JR/T 0169-2018 channel"),
    ])
    def test_an_unknown_jrt_code_is_refused_at_its_line(
        self, old: str, new: str, path: str, what: str
    ) -> None:
        text = edit(old, new)
        error = refusal(text)
        assert error.message.startswith(f"taxonomy.yaml line {line_of(text, new)}: {path}: "
                                        f"{what} (known: ")

    def test_a_product_needs_a_bulletin_category(self) -> None:
        text = edit("    bulletin: credit_card\n", "")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, '^  - code: credit_card')}: "
                                 "products[0].bulletin: is required but missing: name a "
                                 "bulletin category")

    def test_a_reference_that_belongs_to_another_list_is_refused(self) -> None:
        text = edit("jrt_cause: pricing_fees", "jrt_cause: pricing_fees\n    bulletin: other")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, 'bulletin: other', 2)}: "
                                 "categories[0].bulletin: is not a field of categories "
                                 "(allowed: jrt_cause)")

    def test_a_duplicate_code_points_at_the_second_one(self) -> None:
        text = edit("code: fee_dispute", "code: other")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, '^  - code: other', 3)}: "
                                 "categories[1].code: duplicate code 'other' (first in "
                                 "categories[0])")

    def test_a_duplicate_code_in_a_flow_list(self) -> None:
        text = edit("    - {code: pricing_fees, zh: 定价收费, en: Pricing and fees}\n",
                    "    - {code: pricing_fees, zh: 定价收费, en: Pricing and fees}\n"
                    "    - {code: pricing_fees, zh: 收费, en: Fees}\n")
        error = refusal(text)
        assert error.problems[0].path == "standard.cause[1].code"
        assert error.problems[0].line == line_of(text, "zh: 收费,")

    def test_a_key_given_twice_is_refused(self) -> None:
        text = edit("    en: Fee dispute\n", "    en: Fee dispute\n    en: Fees\n")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, 'en: Fees')}: "
                                 "categories[0].en: is given twice in the same place")

    def test_a_list_without_other_is_refused_at_the_list(self) -> None:
        text = edit("  - code: other\n    zh: 其他\n    en: Other\n    jrt_cause: other\n", "")
        error = refusal(text)
        assert error.message == (f"taxonomy.yaml line {line_of(text, '^categories:')}: "
                                 "categories: needs an entry with code 'other', the fallback "
                                 "when nothing else fits")

    def test_every_problem_is_reported_in_the_files_order(self) -> None:
        text = edit("jrt_cause: pricing_fees", "jrt_cause: fees",
                    edit("bulletin: credit_card", "bulletin: xyz"))
        error = refusal(text)
        assert [(p.line, p.path) for p in error.problems] == [
            (line_of(text, "bulletin: xyz"), "products[0].bulletin"),
            (line_of(text, "jrt_cause: fees"), "categories[0].jrt_cause")]
        assert error.message.endswith("(and 1 more problem)")

    def test_a_file_that_is_not_utf8_names_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "gbk.yaml"
        path.write_bytes(MINIMAL.replace("收费争议", "收费").encode("gb18030"))
        with pytest.raises(TaxonomyError) as caught:
            read_taxonomy(path)
        assert caught.value.message.startswith(f"{path} line 4: not UTF-8 text")

    def test_validating_data_directly_checks_the_references_too(self) -> None:
        taxonomy = parse_taxonomy(MINIMAL)
        data = taxonomy.model_dump()
        data["products"][0]["bulletin"] = "xyz"
        with pytest.raises(TaxonomyError, match=r"products\[0\]\.bulletin: 'xyz'"):
            Taxonomy.model_validate(data)


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    return path


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(edit("bulletin: credit_card", "bulletin: xyz"), encoding="utf-8")
    return path


class TestCheckCommand:
    def test_a_good_file_is_ok_with_its_counts(self, good_file: Path) -> None:
        result = runner.invoke(taxonomy_app, ["check", str(good_file)])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"OK {good_file} (version test-1): ")
        assert "2 products" in result.stdout

    def test_a_good_file_as_json(self, good_file: Path) -> None:
        result = runner.invoke(taxonomy_app, ["check", str(good_file), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout.splitlines()[-1])
        assert report["ok"] is True
        assert report["version"] == "test-1"
        assert report["counts"]["kinds"] == 1

    def test_a_bad_file_exits_2_with_the_line_and_reason(self, bad_file: Path) -> None:
        result = runner.invoke(taxonomy_app, ["check", str(bad_file)])
        assert result.exit_code == 2
        line = line_of(bad_file.read_text("utf-8"), "bulletin: xyz")
        assert f"error: {bad_file} line {line}: products[0].bulletin: 'xyz' is not a bulletin " \
               "category" in result.stderr
        assert result.stdout == ""

    def test_a_bad_file_as_json_lists_its_problems(self, bad_file: Path) -> None:
        result = runner.invoke(taxonomy_app, ["check", str(bad_file), "--json"])
        assert result.exit_code == 2
        report = json.loads(result.stdout.splitlines()[-1])
        assert report["ok"] is False
        assert [(p["line"], p["path"]) for p in report["problems"]] == [
            (line_of(bad_file.read_text("utf-8"), "bulletin: xyz"), "products[0].bulletin")]

    def test_several_problems_are_each_printed(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(edit("jrt_cause: pricing_fees", "jrt_cause: fees",
                             edit("bulletin: credit_card", "bulletin: xyz")), encoding="utf-8")
        result = runner.invoke(taxonomy_app, ["check", str(path)])
        assert result.exit_code == 2
        lines = result.stderr.splitlines()
        assert "products[0].bulletin" in lines[0]
        assert "categories[0].jrt_cause" in lines[1]
        assert lines[-1] == f"error: {path}: 2 problems (taxonomy)"

    def test_a_missing_file(self, tmp_path: Path) -> None:
        result = runner.invoke(taxonomy_app, ["check", str(tmp_path / "nope.yaml")])
        assert result.exit_code == 2
        assert "no such file" in result.stderr

    def test_checks_the_shipped_file_as_bankvoc_taxonomy_check(self) -> None:
        shipped = Path(__file__).parents[2] / "src" / "bankvoc" / "nlp" / "taxonomy.yaml"
        result = runner.invoke(app, ["taxonomy", "check", str(shipped)])
        assert result.exit_code == 0, result.output
        assert f"(version {load_taxonomy().version})" in result.stdout


class TestConfiguredFile:
    """A bank points BANKVOC_TAXONOMY_FILE at its own file; the app refuses to start on a bad
    one, naming the line."""

    @pytest.fixture
    def configured(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
        def configure(path: Path) -> None:
            monkeypatch.setenv("BANKVOC_TAXONOMY_FILE", str(path))
            reset_settings()

        yield configure
        monkeypatch.delenv("BANKVOC_TAXONOMY_FILE", raising=False)
        reset_settings()

    def test_the_configured_file_replaces_the_shipped_one(
        self, configured: Callable[[Path], None], tmp_path: Path
    ) -> None:
        shipped = resources.files("bankvoc.nlp").joinpath("taxonomy.yaml").read_text("utf-8")
        own = tmp_path / "own.yaml"
        own.write_text(shipped.replace("keywords: [外汇,", "keywords: [金条, 外汇,"), "utf-8")
        configured(own)
        analysis = TextAnalyzer().analyze("我在网点买的金条有问题")
        assert analysis.product == "foreign_exchange"
        assert "金条" in analysis.explanation["product"]

    def test_a_bad_configured_file_stops_the_app_from_starting(
        self, configured: Callable[[Path], None], bad_file: Path
    ) -> None:
        configured(bad_file)
        with pytest.raises(TaxonomyError, match=r"line \d+"):
            create_app(build_engine("sqlite://"))
